"""Reports: the dashboard over a period and the weekly operations review (reads only).

Activity in a period counts the customers with an outcome logged (completed) in it, per launched
customer as metrics defines; costs are the fixed budgets of campaigns launched in it plus cost per
contact for the attempts in it. Campaign rows also carry their to-date figures — as of the end of
the week in the weekly review — which is what stop / keep / grow is judged on.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Sum, TextField, Value
from django.db.models.functions import Coalesce, ExtractIsoYear, ExtractWeek, NullIf, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.analytics.contacts import CAMPAIGN, FIGURES, MANAGER, Key, cents, channel_key, customer_counts
from campaigns.analytics.metrics import TREATMENT, ZERO, contact_cost, rates, roi, success_rate
from campaigns.analytics.stored import stored_metrics
from campaigns.models import Campaign, FailureReason, Task

MIN_CONTACTS_TO_JUDGE = 100
ACTIONS = {"stop": gettext_lazy("Stop"), "keep": gettext_lazy("Keep"), "grow": gettext_lazy("Grow")}
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
        _("No contacts in the week reviewed: keep — a campaign is not grown on a week that added nothing."),
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


# Reports span these days: outside them no campaign can have run, and date arithmetic on the edges of
# the calendar (9999-12-31 + 1 day) overflowed.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def report_day(text: str, name: str) -> date:
    """A report date given as YYYY-MM-DD within EARLIEST..LATEST; ValueError saying what would do."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(_("%(name)s: give a date like 2026-01-31.") % {"name": name}) from error
    if not EARLIEST <= day <= LATEST:
        raise ValueError(_("%(name)s: give a date between %(earliest)s and %(latest)s.")
                         % {"name": name, "earliest": EARLIEST, "latest": LATEST})
    return day


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
            if not EARLIEST.year <= year < LATEST.year:
                raise ValueError(year)
        except ValueError as error:
            raise ValueError(_("Give the week as YYYY-Www, e.g. %(example)s.") % {
                "example": f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"}) from error
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6), f"{year}-W{week:02d}")


def activity(period: Period | None, campaign_ids: list[int] | None = None, *, as_of=None) -> dict:
    """KPIs, funnel and breakdowns of the customers with an outcome logged in the period — or, with
    no period, of every launched customer (up to `as_of` when given). Counts are per launched
    customer (see metrics); costs are fixed budgets of campaigns launched in the period plus cost
    per contact attempt logged in it."""
    tasks = Task.objects.all()
    launched = Campaign.objects.exclude(launched_at=None)
    if period is not None:
        low, high = period.bounds
        tasks = tasks.filter(completed_at__gte=low, completed_at__lt=high)
        launched = launched.filter(launched_at__gte=low, launched_at__lt=high)
    if as_of is not None:
        launched = launched.filter(launched_at__lt=as_of)
    if campaign_ids is not None:
        tasks, launched = tasks.filter(campaign_id__in=campaign_ids), launched.filter(pk__in=campaign_ids)
    segment = Coalesce("campaign__segment__name", NullIf("campaign__launched_text", Value("")), "campaign__text",
                       output_field=TextField())
    counted = customer_counts(tasks, {"per_campaign": (CAMPAIGN,), "channel": ("channel",), "manager": (MANAGER,),
                                      "branch": ("branch",), "segment": ("segment",)},
                              keys=(channel_key(), Key("branch", F("customer__branch__code")), Key("segment", segment)),
                              as_of=as_of)
    per_campaign = counted["per_campaign"]
    active = sorted(row["campaign_id"] for row in per_campaign)
    per_contact = dict(Campaign.objects.filter(pk__in=active).values_list("pk", "cost_per_contact"))
    totals = {name: sum(row[name] for row in per_campaign) for name in FIGURES}
    totals["revenue"] = cents(totals["revenue"])
    fixed = cents(launched.aggregate(fixed=Coalesce(Sum("cost_fixed"), ZERO))["fixed"])
    cost = fixed + sum((contact_cost(per_contact[row["campaign_id"]], row["attempts"]) for row in per_campaign),
                       Decimal("0.00"))
    summary = rates(totals)
    summary.update(cost=cost, fixed_cost=fixed, roi=roi(summary["revenue"], cost, contacted=summary["contacted"]))
    if period is not None:
        summary = _period_figures(summary)  # launches in the period are what it adds instead
        launches = Task.objects.filter(TREATMENT, follow_up_of__isnull=True, created_at__gte=low, created_at__lt=high)
        summary["launched"] = (launches.filter(campaign_id__in=campaign_ids) if campaign_ids is not None
                               else launches).count()
    stages = [(_("Contacted"), "contacted"), (_("Reached"), "reached"), (_("Interested"), "interested"),
              (_("Converted"), "converted")]
    if period is None:
        stages.insert(0, (_("Launched customers"), "customers"))
    by_channel = sorted((rates(row) for row in counted["channel"]), key=lambda row: row["channel"] or "")
    logged = tasks.filter(TREATMENT).exclude(completed_at=None)
    if as_of is not None:
        logged = logged.filter(completed_at__lt=as_of)
    return {
        "summary": summary,
        "funnel": [{"stage": stage, "count": summary[key]} for stage, key in stages],
        "by_channel": _quadrants(by_channel, summary["success_rate"]),
        "median_volume": _median_volume(by_channel),
        "by_account_manager": sorted((rates(row) for row in counted["manager"]), key=lambda row: (
            -row["converted"], -(row["success_rate"] or 0), row["account_manager"] or "")),
        "by_branch": sorted((rates(row) for row in counted["branch"]), key=lambda row: row["branch"] or ""),
        "by_failure_reason": _labelled(logged.filter(response__in=[Task.Response.DECLINED, Task.Response.NOT_INTERESTED])
                                       .values("failure_reason").annotate(count=Count("pk")).order_by("-count")),
        "by_segment": sorted((rates(row) for row in counted["segment"]),
                             key=lambda row: (-row["converted"], row["segment"] or "")),
        "trend": _trend(tasks, launched, period, per_contact, as_of),
        "campaign_ids": active,
        # Each campaign's own figures for the period (the weekly review's "this week" columns).
        "per_campaign": {row["campaign_id"]: (_period_figures(rates(row)) if period is not None else rates(row))
                         for row in per_campaign},
    }


def _period_figures(figures: dict) -> dict:
    """Figures of a period without those that are 1 by construction: every customer counted there had
    an outcome logged in the period, so its done and contact rates say nothing."""
    return {key: value for key, value in figures.items()
            if key not in ("tasks", "customers", "done", "open", "done_rate", "contact_rate", "campaign_id")}


def _labelled(reasons) -> list[dict]:
    """Failure-reason rows with the reason as people read it ("Price / fees", not "price")."""
    labels = {reason.code: str(reason) for reason in FailureReason.objects.all()}
    return [{**row, "label": labels.get(row["failure_reason"], row["failure_reason"]) or str(_("not given"))}
            for row in reasons]


def _median_volume(rows: list[dict]) -> int:
    volumes = sorted(row["contacted"] for row in rows if row["contacted"])
    return volumes[len(volumes) // 2] if volumes else 0


def _quadrants(rows: list[dict], overall_rate: float | None) -> list[dict]:
    """Each channel's place among the four strategies: volume against conversion."""
    median_volume = _median_volume(rows)
    for row in rows:
        high_volume = row["contacted"] >= median_volume and row["contacted"] > 0
        high_rate = row["success_rate"] is not None and overall_rate is not None and row["success_rate"] >= overall_rate
        # A channel nobody was contacted on has no verdict: "cut" would judge a channel not yet tried.
        row["strategy"] = (_("no contacts yet") if not row["contacted"]
                           else _("keep / grow") if high_volume and high_rate else _("improve targeting") if high_volume
                           else _("watch") if high_rate else _("cut"))
    return rows


def _trend(tasks, launched, period: Period | None, per_contact: dict, as_of) -> list[dict]:
    """Per ISO week of the period (per day for one week): customers contacted and converted in it,
    success rate, revenue, cost (cost per attempt of that week's attempts + budgets of campaigns
    launched in it) and ROI."""
    one_week = period is not None and (period.end - period.start).days < 7
    keys = ((Key("day", TruncDate("completed_at")),) if one_week else
            (Key("year", ExtractIsoYear("completed_at")), Key("week", ExtractWeek("completed_at"))))

    def label(row) -> str | None:  # keys come back as text (customer_counts casts them)
        if one_week:
            return row["day"][:10] if row["day"] else None
        return f"{int(row['year'])}-W{int(row['week']):02d}" if row["year"] else None

    def bucket_of(day) -> str:
        year, week, _weekday = day.isocalendar()
        return day.isoformat() if one_week else f"{year}-W{week:02d}"

    buckets: dict[str, dict] = {}
    empty = {"contacted": 0, "converted": 0, "revenue": Decimal("0.00"), "cost": Decimal("0.00")}
    grouping = (CAMPAIGN, *(key.name for key in keys))
    for row in customer_counts(tasks.exclude(completed_at=None), {"trend": grouping}, keys=keys, as_of=as_of)["trend"]:
        name = label(row)
        if name is None:
            continue
        bucket = buckets.setdefault(name, {"period": name, **empty})
        bucket["contacted"] += row["contacted"]
        bucket["converted"] += row["converted"]
        bucket["revenue"] += row["revenue"]
        bucket["cost"] += contact_cost(per_contact.get(row["campaign_id"], 0), row["attempts"])
    zone = timezone.get_current_timezone()
    for launched_at, fixed in launched.values_list("launched_at", "cost_fixed"):
        name = bucket_of(launched_at.astimezone(zone).date())
        bucket = buckets.setdefault(name, {"period": name, **empty})
        bucket["cost"] += fixed or 0
    for bucket in buckets.values():
        bucket["success_rate"] = success_rate(bucket["converted"], bucket["contacted"])
        bucket["roi"] = roi(bucket["revenue"], bucket["cost"], contacted=bucket["contacted"])
    return [buckets[name] for name in sorted(buckets)]


def recommend(figures: dict, average_rate: float | None, *, active: bool = True) -> tuple[str, str]:
    """stop / keep / grow for a campaign's to-date figures, with the rule that decided it.

    `active` is False for a campaign without contacts in the week reviewed: it is never grown on
    figures that week added nothing to."""
    contacted, rate, roi = figures.get("contacted") or 0, figures.get("success_rate"), figures.get("roi")
    lift = figures.get("uplift") or {}
    if contacted < MIN_CONTACTS_TO_JUDGE:
        return "keep", rules()[0]
    if (roi is not None and roi < 0) or (rate is not None and average_rate and rate < STOP_RATE_FACTOR * average_rate):
        return "stop", rules()[1]
    worse_than_holdout = lift.get("significant") and (lift.get("value") or 0) < 0
    if not worse_than_holdout and ((roi is not None and roi >= GROW_ROI) or (
            roi is None and rate is not None and average_rate and rate >= GROW_RATE_FACTOR * average_rate)):
        if not active:
            return "keep", rules()[4]
        return "grow", rules()[2]
    return "keep", rules()[3]


def campaign_rows(campaign_ids: list[int], week_activity: dict[int, dict] | None, average_rate,
                  figures: dict[int, dict] | None = None) -> list[dict]:
    """A row per campaign with its to-date figures (the stored ones unless given) and its action."""
    metrics = figures if figures is not None else stored_metrics(campaign_ids)
    campaigns = Campaign.objects.filter(pk__in=campaign_ids).select_related("owner").order_by("name")
    rows = []
    for campaign in campaigns:
        to_date = metrics.get(campaign.pk, {})
        active = week_activity is None or campaign.pk in week_activity
        action, reason = recommend(_numbers(to_date), average_rate, active=active)
        rows.append({"id": campaign.pk, "name": campaign.name, "slug": campaign.slug, "status": campaign.status,
                     "status_label": campaign.get_status_display(), "channel": campaign.channel,
                     "owner": campaign.owner.username, "period": (week_activity or {}).get(campaign.pk),
                     "to_date": to_date, "action": action, "action_label": ACTIONS[action], "reason": reason})
    return rows


def _numbers(stored: dict) -> dict:
    """Stored metrics carry decimals as strings; the rules need numbers."""
    return {key: (float(value) if key in ("roi", "success_rate") and value is not None else value)
            for key, value in stored.items()}
