from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = _("Segments")

    def ready(self):
        from accounts import navigation

        navigation.register("segments:list", _("Segments"), roles=navigation.MANAGERS, order=40)
