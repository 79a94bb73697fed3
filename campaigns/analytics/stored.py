"""Stored campaign metrics: a debounced refresh after outcomes and the nightly recompute."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from campaigns.analytics.attribution import campaigns_attributing
from campaigns.analytics.metrics import campaign_metrics, jsonable
from campaigns.models import Campaign, CampaignMetrics
from core.services import enqueue

LOST_AFTER_S = 300  # a queued refresh runs within seconds; one waiting this long was lost
# Outcomes logged within this window share one computation. Bursts are coalesced anyway (while a
# refresh waits or runs, no other is queued for the campaign), so the window is short: an outcome
# shows in the stored figures of a campaign of a million tasks within 5 s (it takes ~3.5 s to compute).
REFRESH_DELAY_S = 0.5


def request_refresh(campaign_id: int) -> None:
    """After an outcome commits: mark the campaign's metrics stale and enqueue one refresh.

    Runs after the outcome's transaction (never inside it: every account manager of a campaign
    would queue on this one row), and enqueues only when no refresh is waiting already. A refresh
    that could not be sent (broker down) or was lost is sent again by the next outcome after
    LOST_AFTER_S; the nightly recompute covers campaigns that get no further outcome.
    """
    transaction.on_commit(lambda: _mark_stale(campaign_id))


def _mark_stale(campaign_id: int) -> None:
    now = timezone.now()
    stored = CampaignMetrics.objects.filter(campaign_id=campaign_id)
    waiting = stored.filter(queued_at__gt=now - timedelta(seconds=LOST_AFTER_S)).exists()
    if not stored.update(requested_at=now):
        CampaignMetrics.objects.get_or_create(campaign_id=campaign_id, defaults={"requested_at": now})
    if not waiting:
        _queue_refresh(campaign_id)


def refresh_attribution(*, product_ids: list[int], first, last) -> int:
    """After purchases were ingested: mark stale (and refresh) every campaign that may attribute them."""
    campaign_ids = campaigns_attributing(product_ids, first, last)
    for campaign_id in campaign_ids:
        _mark_stale(campaign_id)
    return len(campaign_ids)


def _queue_refresh(campaign_id: int) -> None:
    # Marked before sending: the job clears the mark when it starts, and may start before we return.
    CampaignMetrics.objects.filter(campaign_id=campaign_id).update(queued_at=timezone.now())
    if not enqueue("campaigns.jobs.refresh_campaign_metrics", campaign_id, countdown=REFRESH_DELAY_S):
        CampaignMetrics.objects.filter(campaign_id=campaign_id).update(queued_at=None)


def refresh_metrics(*, campaign_id: int, force: bool = False) -> bool:
    """Compute and store one campaign's metrics unless they are already newer than the request.

    An outcome that arrives while this runs is not lost: it moved `requested_at` past the start
    of this computation, so another refresh is enqueued at the end (one at a time per campaign).
    """
    started = timezone.now()
    stored = CampaignMetrics.objects.filter(campaign_id=campaign_id).first()
    if stored and not force and stored.computed_at and stored.requested_at and stored.computed_at >= stored.requested_at:
        CampaignMetrics.objects.filter(campaign_id=campaign_id).update(queued_at=None)
        return False  # an earlier job of the same burst already covered it
    figures = campaign_metrics([campaign_id]).get(campaign_id)
    if figures is None:
        return False  # the campaign was deleted meanwhile
    # Stored and the queue mark cleared together; outcomes that came meanwhile found the mark and
    # queued nothing, so at most one refresh per campaign runs at a time (measured: clearing the
    # mark at the start let refreshes overlap and cost the load test ~40 % of its throughput).
    CampaignMetrics.objects.update_or_create(campaign_id=campaign_id, defaults={
        "data": jsonable(figures), "computed_at": started, "queued_at": None})
    if CampaignMetrics.objects.filter(campaign_id=campaign_id, requested_at__gt=started, queued_at__isnull=True).exists():
        _queue_refresh(campaign_id)
    return True


def recompute_all_metrics() -> int:
    """Nightly: every campaign's metrics from scratch.

    Campaigns are computed METRICS_RECOMPUTE_CONCURRENCY at a time, each on its own connection:
    one statement uses about one PostgreSQL core (10M tasks: 34 s one after the other). Inside a
    caller's transaction (tests) it stays on that connection, which alone sees the caller's rows.
    """
    started = timezone.now()
    ids = list(Campaign.objects.order_by("pk").values_list("pk", flat=True))
    workers = max(1, settings.METRICS_RECOMPUTE_CONCURRENCY)
    if connection.in_atomic_block or workers == 1 or len(ids) < 2:
        return _store(campaign_metrics(ids), computed_at=started)
    shares = [ids[number::workers * 4] for number in range(min(len(ids), workers * 4))]  # big and small mixed
    figures = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_computed_on_own_connection, shares):
            figures.update(part)
    return _store(figures, computed_at=started)


def _computed_on_own_connection(campaign_ids: list[int]) -> dict[int, dict]:
    try:
        return campaign_metrics(campaign_ids)
    finally:
        connections.close_all()  # this thread's connections only


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
