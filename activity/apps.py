from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = _("Activity")

    def ready(self):
        from accounts import navigation
        from customers.selectors import register_page_section, register_timeline_source

        from .timeline import customer_timeline_events, holdings_section

        navigation.register("activity:products", _("Products"), roles=navigation.EVERYONE, order=25)
        navigation.register("activity:import", _("Import activity"), roles=navigation.MANAGERS, order=31)
        register_timeline_source(customer_timeline_events)
        register_page_section(holdings_section)
