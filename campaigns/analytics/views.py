"""Reports pages: the dashboard over a period, the weekly operations review, their exports, the
history upload, and result tags on demand from a campaign's page."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from activity.selectors import dormancy_trend
from activity.services import set_dormancy_goal
from campaigns.analytics import reports, review
from campaigns.analytics.exports import BREAKDOWNS, weekly_workbook
from campaigns.analytics.history import COLUMNS, HISTORY_KIND, queue_history_import
from campaigns.analytics.result_tags import tag_results
from campaigns.models import Campaign
from campaigns.templatetags.campaigns_extras import channel_label
from core.exports import csv_response, xlsx_response
from core.params import object_id
from core.selectors import jobs_visible_to
from customers.importing import ImportFileError
from scores.selectors import lifecycle_week_over_week

PRESETS = [("4w", _("Last 4 weeks")), ("12w", _("Last 12 weeks")), ("year", _("This year")), ("all", _("All time"))]


def _period(request) -> tuple[reports.Period | None, str, str]:
    """The chosen period: a preset, or from/to dates; all time by default (history included)."""
    today = timezone.localdate()
    preset = request.GET.get("preset", "all")
    try:
        start = reports.report_day(request.GET["from"], _("From")) if request.GET.get("from") else None
        end = reports.report_day(request.GET["to"], _("To")) if request.GET.get("to") else None
    except ValueError as error:
        messages.error(request, str(error))
        start = end = None
    if start or end:
        start, end = start or reports.EARLIEST, end or today
        return reports.Period(min(start, end), max(start, end), f"{start} – {end}"), "custom", ""
    spans = {"4w": today - timedelta(weeks=4), "12w": today - timedelta(weeks=12), "year": today.replace(month=1, day=1)}
    if preset in spans:
        return reports.Period(spans[preset] + timedelta(days=1), today, dict(PRESETS)[preset]), preset, ""
    return None, "all", _("All time")


@manager_required
def dashboard(request):
    period, preset, label = _period(request)
    chosen = object_id(request.GET.get("campaign"))
    campaign_ids = [chosen] if chosen is not None else None
    data = reports.activity(period, campaign_ids)
    average = data["summary"]["success_rate"]
    campaigns = reports.campaign_rows(data["campaign_ids"], None, average)
    charts = {
        "trend": [{"period": row["period"], "success_rate": row["success_rate"], "contacted": row["contacted"],
                   "roi": row["roi"]} for row in data["trend"]],
        "channels": [{"channel": channel_label(row["channel"]), "contacted": row["contacted"],
                      "success_rate": row["success_rate"]} for row in data["by_channel"]],
        "quadrant_lines": {"volume": data["median_volume"], "rate": average},
        "funnel": [{"stage": str(row["stage"]), "count": row["count"]} for row in data["funnel"]],
        "reasons": [{"reason": row["label"], "count": row["count"]}
                    for row in data["by_failure_reason"]],
        "labels": {"success_rate": _("success rate %"), "roi": _("ROI %"), "contacted": _("contacted"),
                   "channels": _("channels"), "average_rate": _("average rate"), "median_volume": _("median volume"),
                   "customers": _("customers"), "declines": _("declines")},
    }
    if request.GET.get("export") in BREAKDOWNS:
        header, rows = BREAKDOWNS[request.GET["export"]](data, campaigns)
        return csv_response(f"loopcrm-{request.GET['export']}.csv", header, rows)
    return render(request, "campaigns/reports/dashboard.html", {
        "data": data, "campaigns": campaigns, "charts": charts, "presets": PRESETS, "preset": preset,
        "period": period, "label": period.label if period else label, "query": request.GET.urlencode(),
        "counted": _what_is_counted(campaigns),
        "campaign_choices": Campaign.objects.exclude(launched_at=None).order_by("name").values_list("pk", "name"),
        "chosen": chosen, "lifecycle": lifecycle_week_over_week(), "dormancy": dormancy_trend(),
    })


@require_POST
@manager_required
def dormancy_goal(request):
    """The team's goal for the share of dormant customers (kept with the earlier goals)."""
    try:
        share = Decimal(request.POST.get("target_percent", "")) / 100
        days = int(request.POST.get("dormant_days", ""))
        set_dormancy_goal(by=request.user, target_share=share, dormant_days=days)
    except (InvalidOperation, ValueError):
        messages.error(request, _("Give the goal as a percentage and the days as a whole number."))
    except ValidationError as error:
        messages.error(request, "; ".join(" ".join(problems) for problems in error.message_dict.values()))
    else:
        messages.success(request, _("Goal saved; the dormant share is being recomputed under it."))
    return redirect("campaigns:reports")


def _what_is_counted(campaigns: list[dict]) -> str:
    """The headline says which campaigns its figures add up (all time mixes imported history in)."""
    names = [row["name"] for row in campaigns]
    if len(names) <= 5:
        return ngettext("%(count)d campaign: %(names)s", "%(count)d campaigns: %(names)s", len(names)) % {
            "count": len(names), "names": ", ".join(names)}
    return ngettext("%(count)d campaign", "%(count)d campaigns", len(names)) % {"count": len(names)}


@manager_required
def weekly(request):
    try:
        report = review.weekly_report(request.GET.get("week"))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"loopcrm-weekly-{report['week']}.xlsx", weekly_workbook(report))
    previous, following = _neighbour_weeks(report["start"])
    return render(request, "campaigns/reports/weekly.html", {"report": report, "previous": previous,
                                                             "following": following})


def _neighbour_weeks(start: str) -> tuple[str, str]:
    monday = date.fromisoformat(start)
    labels = []
    for day in (monday - timedelta(days=7), monday + timedelta(days=7)):
        year, week, _weekday = day.isocalendar()
        labels.append(f"{year}-W{week:02d}")
    return labels[0], labels[1]


@manager_required
def history_import(request):
    """Upload past contacts (or the bank-marketing file); the import runs as a background job."""
    error = None
    if request.method == "POST" and request.FILES.get("file"):
        try:
            job = queue_history_import(upload=request.FILES["file"], by=request.user,
                                       date_format=request.POST.get("date_format") or None)
        except ImportFileError as problem:
            error = str(problem)
        else:
            return redirect("campaigns:history_status", job_id=job.pk)
    elif request.method == "POST":
        error = _("Choose a file to upload.")
    return render(request, "campaigns/reports/history_upload.html", {"error": error, "columns": COLUMNS})


@manager_required
def history_status(request, job_id):
    job = get_object_or_404(jobs_visible_to(request.user, HISTORY_KIND), pk=job_id)
    template = "campaigns/reports/_history_progress.html" if request.htmx else "campaigns/reports/history_status.html"
    return render(request, template, {"job": job, "errors": job.errors[:200]})


@manager_required
@require_POST
def campaign_tag_results(request, pk):
    """On demand: write the result tags (<slug>-converted, …) from the outcomes so far."""
    counts = tag_results(campaign=get_object_or_404(Campaign, pk=pk))
    messages.success(request, _("Result tags written: %(tags)s.") % {
        "tags": ", ".join(f"{slug} ({count})" for slug, count in counts.items())})
    return redirect("campaigns:detail", pk=pk)
