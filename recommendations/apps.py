from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
    verbose_name = _("Recommendations")

    def ready(self):
        from accounts import navigation
        from customers.selectors import register_customer_panel

        navigation.register("recommendations:rules", _("Recommendations"), roles=navigation.MANAGERS, order=45)
        register_customer_panel("recommendations:customer_next_best")
