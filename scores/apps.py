from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoresConfig(AppConfig):
    name = "scores"
    verbose_name = _("Scores")

    def ready(self):
        from accounts import navigation
        from customers.selectors import register_list_panel, register_page_section

        from .selectors import customer_scores_section

        navigation.register("scores:overview", _("Scores"), roles=navigation.MANAGERS, order=27)
        register_page_section(customer_scores_section)
        register_list_panel("scores:list_distribution")
