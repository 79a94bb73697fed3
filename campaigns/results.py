"""Closing the loop: stored campaign metrics (debounced refresh, nightly recompute) and result
tags written back onto customers for the next segment."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import enqueue
from customers import services as customer_services
from customers.models import Tag

from .metrics import campaign_metrics, jsonable
from .models import Campaign, CampaignMetrics, Task

REFRESH_DELAY_S = 2  # outcomes logged within this window share one computation

# The result tag a customer's latest treatment outcome earns (None: no tag, e.g. not contacted).
def result_of(contact_result: str, response: str) -> str | None:
    if response == Task.Response.CONVERTED:
        return "converted"
    if response in (Task.Response.INTERESTED, Task.Response.CALL_BACK):
        return "interested"
    if response in (Task.Response.DECLINED, Task.Response.NOT_INTERESTED):
        return "declined"
    if contact_result in (Task.ContactResult.UNREACHABLE, Task.ContactResult.WRONG_NUMBER,
                          Task.ContactResult.REFUSED):
        return "unreachable"
    return None


RESULTS = ("converted", "interested", "declined", "unreachable")


def request_refresh(campaign_id: int) -> None:
    """After an outcome commits: mark the campaign's metrics stale and enqueue one refresh.

    Runs after the outcome's transaction (never inside it: every account manager of a campaign
    would queue on this one row), and enqueues only when no refresh is pending already.
    """
    transaction.on_commit(lambda: _mark_stale(campaign_id))


def _mark_stale(campaign_id: int) -> None:
    from . import jobs

    stored = CampaignMetrics.objects.filter(campaign_id=campaign_id)
    pending = stored.filter(Q(computed_at__isnull=True) | Q(requested_at__gt=F("computed_at")),
                            requested_at__isnull=False).exists()
    if not stored.update(requested_at=timezone.now()):
        CampaignMetrics.objects.get_or_create(campaign_id=campaign_id, defaults={"requested_at": timezone.now()})
    if not pending:
        enqueue(jobs.refresh_campaign_metrics, campaign_id, countdown=REFRESH_DELAY_S)


def refresh_metrics(*, campaign_id: int, force: bool = False) -> bool:
    """Compute and store one campaign's metrics unless they are already newer than the request.

    An outcome that arrives while this runs is not lost: it moved `requested_at` past the start
    of this computation, so another refresh is enqueued at the end.
    """
    from . import jobs

    started = timezone.now()
    stored = CampaignMetrics.objects.filter(campaign_id=campaign_id).first()
    if stored and not force and stored.computed_at and stored.requested_at and stored.computed_at >= stored.requested_at:
        return False  # an earlier job of the same burst already covered it
    figures = campaign_metrics([campaign_id]).get(campaign_id)
    if figures is None:
        return False  # the campaign was deleted meanwhile
    CampaignMetrics.objects.update_or_create(campaign_id=campaign_id,
                                             defaults={"data": jsonable(figures), "computed_at": started})
    if CampaignMetrics.objects.filter(campaign_id=campaign_id, requested_at__gt=started).exists():
        enqueue(jobs.refresh_campaign_metrics, campaign_id, countdown=REFRESH_DELAY_S)
    return True


def recompute_all_metrics() -> int:
    """Nightly: every campaign's metrics from scratch, in one grouped query per breakdown."""
    return _store(campaign_metrics(None), computed_at=timezone.now())


def stored_metrics(campaign_ids: list[int]) -> dict[int, dict]:
    """Stored metrics of these campaigns; the missing ones are computed (together) and stored."""
    stored = {row.campaign_id: row.data for row in CampaignMetrics.objects.filter(campaign_id__in=campaign_ids,
                                                                                  computed_at__isnull=False)}
    missing = [pk for pk in campaign_ids if pk not in stored]
    if missing:
        started = timezone.now()
        figures = campaign_metrics(missing)
        _store(figures, computed_at=started)
        stored.update({pk: jsonable(data) for pk, data in figures.items()})
    return stored


@transaction.atomic
def _store(figures: dict[int, dict], *, computed_at) -> int:
    existing = set(CampaignMetrics.objects.filter(campaign_id__in=list(figures)).values_list("campaign_id", flat=True))
    rows = [CampaignMetrics(campaign_id=pk, data=jsonable(data), computed_at=computed_at) for pk, data in figures.items()]
    CampaignMetrics.objects.bulk_create([row for row in rows if row.campaign_id not in existing], batch_size=500)
    CampaignMetrics.objects.bulk_update([row for row in rows if row.campaign_id in existing],
                                        ["data", "computed_at"], batch_size=500)
    return len(rows)


def result_tag_slug(campaign: Campaign, result: str) -> str:
    return f"{campaign.slug}-{result}"[:80]


@transaction.atomic
def tag_results(*, campaign: Campaign) -> dict[str, int]:
    """Give customers `<slug>-converted`, `-interested`, `-declined`, `-unreachable` from their latest
    outcome in this campaign (control customers get none); run again, it corrects itself."""
    outcomes = (Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT).exclude(contact_result="")
                .order_by("customer_id", "-completed_at", "-id")
                .values_list("customer_id", "contact_result", "response"))
    latest: dict[int, str | None] = {}
    for customer_id, contact_result, response in outcomes.iterator(chunk_size=20_000):
        if customer_id not in latest:  # rows come newest first per customer
            latest[customer_id] = result_of(contact_result, response)
    counts = {}
    for result in RESULTS:
        tag = customer_services.ensure_tag(
            slug=result_tag_slug(campaign, result),
            name=_("%(campaign)s: %(result)s") % {"campaign": campaign.name, "result": result},
            category=Tag.Category.CAMPAIGN_RESULT, source=Tag.Source.CAMPAIGN)
        earners = {customer_id for customer_id, earned in latest.items() if earned == result}
        customer_services.set_tag_holders(tag=tag, customer_ids=earners, source=Tag.Source.CAMPAIGN)
        counts[tag.slug] = len(earners)
    return counts


def previous_week_label(today=None) -> str:
    from datetime import timedelta

    day = (today or timezone.localdate()) - timedelta(days=7)
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def send_weekly_report(*, week: str | None = None) -> dict:
    """E-mail the weekly review (summary in the body, the workbook attached) to marketing managers.

    Beat calls it on Monday morning for the week that just ended.
    """
    from django.conf import settings
    from django.core.mail import EmailMessage

    from accounts.models import User
    from accounts.roles import Role
    from core.exports import xlsx_bytes

    from .report_exports import summary_text, weekly_workbook
    from .reports import weekly_report

    report = weekly_report(week or previous_week_label())
    recipients = sorted(set(User.objects.filter(groups__name=Role.MARKETING_MANAGER, is_active=True)
                            .exclude(email="").values_list("email", flat=True)))
    if not recipients:
        return {"week": report["week"], "sent_to": []}
    message = EmailMessage(subject=_("LoopCRM weekly review %(week)s") % {"week": report["week"]},
                           body=summary_text(report), from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    message.attach(f"loopcrm-weekly-{report['week']}.xlsx", xlsx_bytes(weekly_workbook(report)),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    message.send()
    return {"week": report["week"], "sent_to": recipients}
