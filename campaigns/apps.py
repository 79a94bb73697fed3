from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        # What campaigns offer the apps below them, registered here so that they never import campaigns.
        from accounts import navigation
        from accounts.roles import Role
        from activity.signals import events_stored
        from core import export_jobs
        from customers import tag_references
        from customers.selectors import register_timeline_source

        from .lifecycle.tag_references import campaigns_naming, rename_in_campaigns
        from .triggers.selectors import unseen_alert_count
        from .triggers.services import queue_stored_events
        from .workspace import exports
        from .workspace.selectors import customer_timeline_events, due_now_count, pool_count
        from .workspace.services import ensure_failure_reasons

        navigation.register("home", _("Home"), roles=navigation.MANAGERS, order=5)
        navigation.register("campaigns:list", _("Campaigns"), roles=navigation.MANAGERS, order=50)
        navigation.register("campaigns:my_tasks", _("My tasks"), roles={Role.ACCOUNT_MANAGER}, order=60,
                            badge=due_now_count)
        navigation.register("campaigns:reports", _("Reports"), roles=navigation.MANAGERS, order=70)
        navigation.register("campaigns:triggers", _("Key events"), roles=navigation.MANAGERS, order=55)
        navigation.register("campaigns:calendar", _("Calendar"), roles=navigation.MANAGERS, order=56)
        navigation.register("campaigns:alerts", _("Alerts"), roles={Role.ACCOUNT_MANAGER}, order=62,
                            badge=unseen_alert_count)
        navigation.register("campaigns:pool", _("Branch pool"), roles={Role.ACCOUNT_MANAGER}, order=64, badge=pool_count)
        register_timeline_source(customer_timeline_events)
        events_stored.connect(queue_stored_events, dispatch_uid="loopcrm-trigger-events")
        export_jobs.register_export(exports.EXPORT_NAME, exports.export_rows)
        tag_references.register(campaigns_naming, rename_in_campaigns)
        # The default failure reasons exist after every migrate (and every test-database flush).
        post_migrate.connect(lambda **kwargs: ensure_failure_reasons(), sender=self, weak=False,
                             dispatch_uid="loopcrm-failure-reasons")
