from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from accounts import navigation
        from core import export_jobs

        from . import exports

        navigation.register("customers:list", _("Customers"), roles=navigation.EVERYONE, order=10)
        navigation.register("customers:tags", _("Tags"), roles=navigation.MANAGERS, order=20)
        navigation.register("customers:import", _("Import"), roles=navigation.MANAGERS, order=30)
        navigation.register("customers:bulk_changes", _("Bulk changes"), roles=navigation.EVERYONE, order=35)
        export_jobs.register_export(exports.EXPORT_NAME, exports.export_rows)
