"""Reads for a marketing manager's home: the campaigns in flight and what needs attention today."""

from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.analytics.history import HISTORY_KIND
from campaigns.analytics.stored import stored_metrics
from campaigns.models import Campaign, Task
from core.models import Job
from core.selectors import jobs_visible_to
from customers.import_jobs import IMPORT_KIND
from segments.selectors import moved_sharply

SHOWN = 20  # campaigns per list on the home page (the campaign list has the rest)
SOON = timedelta(hours=24)
RECENT = timedelta(days=7)


def manager_home(user) -> dict:
    """Running and scheduled campaigns with their progress, and the attention items: launches due,
    launches overdue, overdue tasks by campaign and account manager, segments whose audience moved
    sharply in a week, imports that rejected rows or failed. A handful of indexed queries; the figures
    are the stored, debounced campaign metrics."""
    now = timezone.now()
    running = list(Campaign.objects.filter(status=Campaign.Status.RUNNING).order_by("-launched_at")[:SHOWN])
    scheduled = list(Campaign.objects.filter(status=Campaign.Status.SCHEDULED).order_by("start_at")[:SHOWN])
    figures = stored_metrics([campaign.pk for campaign in running])
    rows = []
    for campaign in running:
        data = figures.get(campaign.pk, {})
        rows.append({"campaign": campaign, "customers": data.get("customers") or 0, "done": data.get("done") or 0,
                     "contacted": data.get("contacted") or 0, "converted": data.get("converted") or 0,
                     "done_rate": data.get("done_rate"), "success_rate": data.get("success_rate")})
    return {"running": rows, "scheduled": scheduled, "attention": _attention(user, now, scheduled)}


def _attention(user, now, scheduled: list[Campaign]) -> list[dict]:
    items = []
    for campaign in scheduled:
        if campaign.start_at and campaign.start_at < now - timedelta(minutes=10):
            items.append({"level": "error", "url": reverse("campaigns:detail", args=[campaign.pk]), "text": _(
                "“%(name)s” was due to launch at %(when)s and has not: check that a worker is running.") % {
                "name": campaign.name, "when": timezone.localtime(campaign.start_at).strftime("%Y-%m-%d %H:%M")}})
        elif campaign.start_at and campaign.start_at <= now + SOON:
            items.append({"level": "info", "url": reverse("campaigns:detail", args=[campaign.pk]),
                          "text": _("“%(name)s” launches at %(when)s.") % {
                "name": campaign.name, "when": timezone.localtime(campaign.start_at).strftime("%Y-%m-%d %H:%M")}})
    overdue = (Task.objects.filter(campaign__status=Campaign.Status.RUNNING, group=Task.Group.TREATMENT,
                                   status__in=Task.OPEN_STATUSES, due_date__lt=timezone.localdate())
               .values("campaign_id", "campaign__name", "assignee_id", "assignee__username")
               .annotate(count=Count("pk")).order_by("-count")[:SHOWN])
    for row in overdue:
        url = (reverse("campaigns:tasks", args=[row["campaign_id"]]) + "?status=open&status=in_progress"
               + f"&due_before={timezone.localdate() - timedelta(days=1)}&assignee={row['assignee_id'] or ''}")
        items.append({"level": "warning", "url": url, "text": ngettext(
            "%(manager)s has %(count)d overdue task in “%(name)s”.",
            "%(manager)s has %(count)d overdue tasks in “%(name)s”.", row["count"]) % {
            "manager": row["assignee__username"] or _("nobody"), "count": row["count"], "name": row["campaign__name"]}})
    jobs = (jobs_visible_to(user).filter(kind__in=[IMPORT_KIND, HISTORY_KIND], finished_at__gte=now - RECENT)
            .order_by("-finished_at"))
    for row in moved_sharply():
        items.append({"level": "info", "url": reverse("segments:detail", args=[row["segment"].pk]), "text": _(
            "The audience of “%(name)s” moved from %(before)s to %(after)s customers since %(since)s.") % {
            "name": row["segment"].name, "before": f"{row['from']:,}", "after": f"{row['to']:,}",
            "since": row["since"].isoformat()}})
    for job in jobs.filter(state=Job.State.FAILED)[:SHOWN]:
        items.append({"level": "error", "url": _job_url(job), "text": _("The import of %(name)s failed.") % {
            "name": job.params.get("file_name", "?")}})
    for job in jobs.filter(state=Job.State.SUCCEEDED, result__rejected__gt=0)[:SHOWN]:
        items.append({"level": "warning", "url": _job_url(job), "text": ngettext(
            "The import of %(name)s rejected %(count)d row.", "The import of %(name)s rejected %(count)d rows.",
            job.result["rejected"]) % {"name": job.params.get("file_name", "?"), "count": job.result["rejected"]}})
    return items


def _job_url(job: Job) -> str:
    name = "customers:import_status" if job.kind == IMPORT_KIND else "campaigns:history_status"
    return reverse(name, kwargs={"job_id": job.pk})
