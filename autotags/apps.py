from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutotagsConfig(AppConfig):
    name = "autotags"
    verbose_name = _("Auto-tag rules")

    def ready(self):
        from accounts import navigation

        navigation.register("autotags:rules", _("Auto-tag rules"), roles=navigation.MANAGERS, order=28)
