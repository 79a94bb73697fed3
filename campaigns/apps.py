from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        # The default failure reasons exist after every migrate (and every test-database flush).
        post_migrate.connect(_ensure_failure_reasons, sender=self, weak=False, dispatch_uid="loopcrm-failure-reasons")


def _ensure_failure_reasons(**kwargs):
    from .outcomes import ensure_failure_reasons

    ensure_failure_reasons()
