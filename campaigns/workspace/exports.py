"""A campaign's tasks as CSV: streamed inside the request when small, else written whole by a job
(core.export_jobs) and downloaded when complete."""

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.workspace.filters import TaskFilter
from core import export_jobs

EXPORT_NAME = "campaign_tasks"
COLUMNS = ["id", "customer__external_id", "customer__name", "assignee__username", "group", "channel", "status",
           "due_date", "contact_result", "response", "failure_reason", "amount", "completed_at"]


def campaign_task_filter(campaign: Campaign, query: QueryDict) -> TaskFilter:
    return TaskFilter(query, queryset=campaign.tasks.select_related("customer", "assignee"))


def task_rows(task_filter: TaskFilter):
    """(header, rows) of the filtered tasks in id order; completion times as the account managers lived
    them (TIME_ZONE), with the offset."""
    header = [_("Task"), _("External id"), _("Customer"), _("Account manager"), _("Group"), _("Channel"), _("Status"),
              _("Due"), _("Contact result"), _("Response"), _("Failure reason"), _("Amount"), _("Completed")]
    zone = timezone.get_current_timezone()

    def local(rows):
        for *values, completed in rows:
            yield [*values, completed.astimezone(zone).isoformat(timespec="seconds") if completed else ""]

    return header, local(task_filter.qs.order_by("id").values_list(*COLUMNS).iterator(chunk_size=5000))


def file_name(campaign: Campaign) -> str:
    return f"{campaign.slug}-tasks-{timezone.localdate().isoformat()}.csv"


def queue_task_export(*, campaign: Campaign, query: QueryDict, by, count: int):
    return export_jobs.queue_export(name=EXPORT_NAME, by=by, total=count, file_name=file_name(campaign),
                                    title=campaign.name, params={"campaign_id": campaign.pk, "query": query.urlencode()})


def export_rows(job):
    """Campaign tasks are for managers; the job runs for the manager who asked, as of now."""
    campaign = Campaign.objects.get(pk=job.params["campaign_id"])
    return task_rows(campaign_task_filter(campaign, QueryDict(job.params["query"])))
