"""Reports: the dashboard over a period and the weekly operations review (reads only).

Activity in a period counts the outcomes logged (completed) in it; costs are the fixed budgets of
campaigns launched in it plus cost per contact for the contacts in it. Campaign rows also carry
their stored to-date metrics (campaigns.results), which is what stop / keep / grow is judged on.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, TextField, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.analytics.metrics import TREATMENT, ZERO, counts, jsonable, rates, roi, success_rate
from campaigns.analytics.stored import stored_metrics
from campaigns.models import Campaign, Task

MIN_CONTACTS_TO_JUDGE = 100
GROW_ROI, GROW_RATE_FACTOR, STOP_RATE_FACTOR = 0.5, 1.5, 0.5


def rules() -> list[str]:
    """The stop / keep / grow rules as the report prints them (in the reader's language)."""
    return [
        _("Fewer than %(n)d contacts so far: keep — too early to judge.") % {"n": MIN_CONTACTS_TO_JUDGE},
        _("Stop when the campaign loses money (ROI below %(zero)s), or converts under %(factor)s× the average "
          "success rate.") % {"zero": "0 %", "factor": STOP_RATE_FACTOR},
        _("Grow when ROI is %(roi)s or more, or (no costs recorded) it converts at %(factor)s× the average or "
          "better — unless the holdout shows it does significantly worse than not contacting.") % {
            "roi": f"{GROW_ROI:.0%}".replace("%", " %"), "factor": GROW_RATE_FACTOR},
        _("Otherwise keep."),
    ]


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive
    label: str

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=zone),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone))


def iso_week(text: str | None, *, today: date | None = None) -> Period:
    """`2026-W47` (or the current week when empty) as a Monday–Sunday period; ValueError if malformed."""
    today = today or timezone.localdate()
    if not text:
        year, week, _day = today.isocalendar()
    else:
        try:
            year_text, week_text = text.strip().upper().split("-W")
            year, week = int(year_text), int(week_text)
            date.fromisocalendar(year, week, 1)
        except ValueError as error:
            raise ValueError(_("Give the week as YYYY-Www, e.g. %(example)s.") % {
                "example": f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"}) from error
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6), f"{year}-W{week:02d}")


def activity(period: Period | None, campaign_ids: list[int] | None = None) -> dict:
    """KPIs, funnel and breakdowns of the outcomes logged in the period (all time when None)."""
    tasks = Task.objects.filter(TREATMENT)
    launched = Campaign.objects.exclude(launched_at=None)
    if period is not None:
        low, high = period.bounds
        tasks = tasks.filter(completed_at__gte=low, completed_at__lt=high)
        launched = launched.filter(launched_at__gte=low, launched_at__lt=high)
    if campaign_ids is not None:
        tasks, launched = tasks.filter(campaign_id__in=campaign_ids), launched.filter(pk__in=campaign_ids)
    contacted = ~Q(contact_result="")
    money = DecimalField(max_digits=18, decimal_places=2)
    totals = tasks.aggregate(**counts(), contact_cost=Coalesce(Sum("campaign__cost_per_contact", filter=contacted,
                                                                    output_field=money), ZERO))
    fixed = launched.aggregate(fixed=Coalesce(Sum("cost_fixed"), ZERO))["fixed"]
    summary = rates({key: totals[key] for key in ("tasks", "done", "contacted", "reached", "interested", "converted",
                                                  "revenue")})
    cost = fixed + totals["contact_cost"]
    summary.update(cost=cost, fixed_cost=fixed, roi=roi(summary["revenue"], cost))
    active = list(tasks.values_list("campaign_id", flat=True).distinct().order_by())
    summary["audience"] = Campaign.objects.filter(pk__in=active).aggregate(
        audience=Coalesce(Sum("audience_size"), 0))["audience"]
    by_channel = [rates(row) for row in tasks.values("channel").annotate(**counts()).order_by("channel")]
    return {
        "summary": summary,
        "funnel": [{"stage": stage, "count": summary[key]} for stage, key in (
            (_("Audience"), "audience"), (_("Contacted"), "contacted"), (_("Reached"), "reached"),
            (_("Interested"), "interested"), (_("Converted"), "converted"))],
        "by_channel": _quadrants(by_channel, summary["success_rate"]),
        "median_volume": _median_volume(by_channel),
        "by_account_manager": sorted(
            ({"account_manager": row.pop("assignee__username") or "", **rates(row)}
             for row in tasks.values("assignee__username").annotate(**counts())),
            key=lambda row: (-row["converted"], -(row["success_rate"] or 0), row["account_manager"])),
        "by_branch": [{"branch": row.pop("customer__branch__code") or "", **rates(row)}
                      for row in tasks.values("customer__branch__code").annotate(**counts())
                      .order_by("customer__branch__code")],
        "by_failure_reason": list(tasks.filter(response__in=[Task.Response.DECLINED, Task.Response.NOT_INTERESTED])
                                  .values("failure_reason").annotate(count=Count("pk")).order_by("-count")),
        "by_segment": _by_segment(tasks),
        "trend": _trend(tasks, period, campaign_ids),
        "campaign_ids": active,
    }


def _median_volume(rows: list[dict]) -> int:
    volumes = sorted(row["contacted"] for row in rows if row["contacted"])
    return volumes[len(volumes) // 2] if volumes else 0


def _quadrants(rows: list[dict], overall_rate: float | None) -> list[dict]:
    """Each channel's place among the four strategies: volume against conversion."""
    median_volume = _median_volume(rows)
    for row in rows:
        high_volume = row["contacted"] >= median_volume and row["contacted"] > 0
        high_rate = row["success_rate"] is not None and overall_rate is not None and row["success_rate"] >= overall_rate
        row["strategy"] = (_("keep / grow") if high_volume and high_rate else _("improve targeting") if high_volume
                           else _("watch") if high_rate else _("cut"))
    return rows


def _trend(tasks, period: Period | None, campaign_ids: list[int] | None = None) -> list[dict]:
    """Per ISO week of the period (per day for one week): contacts, conversions, success rate,
    revenue, cost (cost per contact of that week's contacts + budgets of campaigns launched in it), ROI."""
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (tasks.exclude(completed_at=None).annotate(day=TruncDate("completed_at")).values("day")
            .annotate(contacted=Count("pk", filter=~Q(contact_result="")),
                      converted=Count("pk", filter=Q(response=Task.Response.CONVERTED)),
                      revenue=Coalesce(Sum("amount"), ZERO),
                      cost=Coalesce(Sum("campaign__cost_per_contact", filter=~Q(contact_result=""), output_field=money),
                                    ZERO)).order_by("day"))
    launches = Campaign.objects.exclude(launched_at=None)
    if period is not None:
        low, high = period.bounds
        launches = launches.filter(launched_at__gte=low, launched_at__lt=high)
    if campaign_ids is not None:
        launches = launches.filter(pk__in=campaign_ids)
    fixed = launches.annotate(day=TruncDate("launched_at")).values("day").annotate(cost=Sum("cost_fixed")).order_by()
    one_week = period is not None and (period.end - period.start).days < 7

    def key(day) -> str:
        year, week, _weekday = day.isocalendar()
        return day.isoformat() if one_week else f"{year}-W{week:02d}"

    buckets: dict[str, dict] = {}
    empty = {"contacted": 0, "converted": 0, "revenue": Decimal(0), "cost": Decimal(0)}
    for row in rows:
        bucket = buckets.setdefault(key(row["day"]), {"period": key(row["day"]), **empty})
        for name in ("contacted", "converted", "revenue", "cost"):
            bucket[name] += row[name]
    for row in fixed:
        bucket = buckets.setdefault(key(row["day"]), {"period": key(row["day"]), **empty})
        bucket["cost"] += row["cost"] or 0
    for bucket in buckets.values():
        bucket["success_rate"] = success_rate(bucket["converted"], bucket["contacted"])
        bucket["roi"] = roi(bucket["revenue"], bucket["cost"])
    return [buckets[name] for name in sorted(buckets)]


def _by_segment(tasks) -> list[dict]:
    """Results per audience: the saved segment a campaign used, or its own expression."""
    label = Coalesce("campaign__segment__name", NullIf("campaign__launched_text", Value("")), "campaign__text",
                     output_field=TextField())
    rows = tasks.annotate(segment=label).values("segment").annotate(**counts()).order_by()
    return sorted(({**rates(row), "segment": row["segment"] or ""} for row in rows),
                  key=lambda row: (-row["converted"], row["segment"]))


def recommend(figures: dict, average_rate: float | None) -> tuple[str, str]:
    """stop / keep / grow for a campaign's to-date figures, with the rule that decided it."""
    contacted, rate, roi = figures.get("contacted") or 0, figures.get("success_rate"), figures.get("roi")
    lift = figures.get("uplift") or {}
    if contacted < MIN_CONTACTS_TO_JUDGE:
        return "keep", rules()[0]
    if (roi is not None and roi < 0) or (rate is not None and average_rate and rate < STOP_RATE_FACTOR * average_rate):
        return "stop", rules()[1]
    worse_than_holdout = lift.get("significant") and (lift.get("uplift") or 0) < 0
    if not worse_than_holdout and ((roi is not None and roi >= GROW_ROI) or (
            roi is None and rate is not None and average_rate and rate >= GROW_RATE_FACTOR * average_rate)):
        return "grow", rules()[2]
    return "keep", rules()[3]


def campaign_rows(campaign_ids: list[int], week_activity: dict[int, dict] | None, average_rate) -> list[dict]:
    metrics = stored_metrics(campaign_ids)
    campaigns = Campaign.objects.filter(pk__in=campaign_ids).select_related("owner").order_by("name")
    rows = []
    for campaign in campaigns:
        to_date = metrics.get(campaign.pk, {})
        action, reason = recommend(_numbers(to_date), average_rate)
        rows.append({"id": campaign.pk, "name": campaign.name, "slug": campaign.slug, "status": campaign.status,
                     "channel": campaign.channel, "owner": campaign.owner.username,
                     "period": (week_activity or {}).get(campaign.pk), "to_date": to_date,
                     "action": action, "reason": reason})
    return rows


def _numbers(stored: dict) -> dict:
    """Stored metrics carry decimals as strings; the rules need numbers."""
    return {key: (float(value) if key in ("roi", "success_rate") and value is not None else value)
            for key, value in stored.items()}


def per_campaign_activity(period: Period) -> dict[int, dict]:
    low, high = period.bounds
    rows = (Task.objects.filter(TREATMENT, completed_at__gte=low, completed_at__lt=high).values("campaign_id")
            .annotate(**counts()).order_by())
    return {row.pop("campaign_id"): rates(row) for row in rows}


def weekly_report(week: str | None) -> dict:
    """The operations review of one ISO week: the week's activity and every campaign that was
    running, active, created or closed in it, with stop / keep / grow."""
    period = iso_week(week)
    week_activity = activity(period)
    low, high = period.bounds
    involved = set(week_activity["campaign_ids"]) | set(Campaign.objects.filter(
        Q(status=Campaign.Status.RUNNING, launched_at__lt=high) | Q(created_at__gte=low, created_at__lt=high)
        | Q(closed_at__gte=low, closed_at__lt=high) | Q(launched_at__gte=low, launched_at__lt=high))
        .values_list("pk", flat=True))
    to_date = activity(None, sorted(involved)) if involved else None
    average = to_date["summary"]["success_rate"] if to_date else None
    return jsonable({
        "week": period.label, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "summary": week_activity["summary"], "funnel": week_activity["funnel"],
        "by_channel": week_activity["by_channel"], "by_account_manager": week_activity["by_account_manager"],
        "by_branch": week_activity["by_branch"], "by_segment": week_activity["by_segment"],
        "by_failure_reason": week_activity["by_failure_reason"],
        "by_day": week_activity["trend"],
        "to_date": ({"summary": to_date["summary"], "by_channel": to_date["by_channel"]} if to_date else None),
        "campaigns": campaign_rows(sorted(involved), per_campaign_activity(period), average),
        "rules": rules(),
    })
