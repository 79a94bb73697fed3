"""The Monday operations review of one ISO week: the week's activity, every campaign that ran in it
with stop / keep / grow (campaigns.analytics.reports), and every recurring template with continue /
stop / change from its waves of the week (campaigns.analytics.waves)."""

from django.db.models import Q
from django.utils import timezone

from campaigns.analytics.metrics import campaign_metrics, jsonable
from campaigns.analytics.reports import activity, campaign_rows, iso_week, rules
from campaigns.analytics.waves import PROPOSALS, pooled, propose
from campaigns.analytics.waves import rules as template_rules
from campaigns.models import Campaign, CampaignTemplate


def weekly_report(week: str | None) -> dict:
    """The operations review of one ISO week: the week's activity, and every launched campaign that
    was running in it, had contacts in it, or was launched or closed in it, with its figures as of
    the end of the week and stop / keep / grow. Drafts are not reviewed; imported history belongs
    to the weeks of its contacts (its launch and close are its first and last contact)."""
    period = iso_week(week)
    week_activity = activity(period)
    low, high = period.bounds
    involved = set(week_activity["campaign_ids"]) | set(Campaign.objects.exclude(launched_at=None).filter(
        Q(launched_at__lt=high) & (Q(closed_at=None) | Q(closed_at__gte=low))).values_list("pk", flat=True))
    to_date = activity(None, sorted(involved), as_of=high) if involved else None
    average = to_date["summary"]["success_rate"] if to_date else None
    figures = {pk: jsonable(row) for pk, row in campaign_metrics(sorted(involved), as_of=high).items()}
    return jsonable({
        "week": period.label, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "as_of": high.isoformat(), "generated_at": timezone.now().isoformat(timespec="seconds"),
        "summary": week_activity["summary"], "funnel": week_activity["funnel"],
        "by_channel": week_activity["by_channel"], "by_account_manager": week_activity["by_account_manager"],
        "by_branch": week_activity["by_branch"], "by_segment": week_activity["by_segment"],
        "by_failure_reason": week_activity["by_failure_reason"],
        "by_day": week_activity["trend"],
        "to_date": ({"summary": to_date["summary"], "by_channel": to_date["by_channel"]} if to_date else None),
        "campaigns": campaign_rows(sorted(involved), week_activity["per_campaign"], average, figures),
        "rules": rules(),
        "templates": template_rows(period, figures, average),
        "template_rules": template_rules(),
    })


def template_rows(period, figures: dict[int, dict], average_rate) -> list[dict]:
    """A row per recurring template that is active or had a wave in the week: the week's waves together
    (as of the end of the week) and the proposal."""
    waves = {}
    for wave in (Campaign.objects.filter(template__isnull=False, wave_date__gte=period.start,
                                         wave_date__lte=period.end).exclude(launched_at=None)
                 .values("pk", "template_id")):
        waves.setdefault(wave["template_id"], []).append(wave["pk"])
    templates = CampaignTemplate.objects.filter(Q(active=True) | Q(pk__in=list(waves))).order_by("weekday", "window_start",
                                                                                              "name")
    rows = []
    for template in templates:
        week = pooled([figures[pk] for pk in waves.get(template.pk, []) if pk in figures])
        action, reason = propose(week, average_rate)
        rows.append({"id": template.pk, "name": template.name, "plan": template.plan, "channel": template.channel,
                     "weekday": template.get_weekday_display(), "window": f"{template.window_start:%H:%M}–"
                     f"{template.window_end:%H:%M}", "active": template.active, "week": week,
                     "proposal": action, "proposal_label": PROPOSALS[action], "reason": reason})
    return rows
