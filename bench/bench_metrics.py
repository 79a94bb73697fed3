"""Metrics benchmark (issue 7): the nightly full recompute over 10M tasks, beside a naive Python
pass over every task, and how soon an outcome logged shows in the stored metrics with a real
Celery worker (Redis broker) running.

Runs on the segments benchmark dataset (1M customers); generates 10 campaigns × 1M customers =
10M tasks once (outcomes, amounts and channels from hashes of the ids: reproducible), 10 % holdout,
and a follow-up attempt for a quarter of the interested customers (call back later; half of those
follow-ups converted, the rest open) — figures count customers, so the follow-ups must not count twice.
"""

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal

from bench.bench_segments import SIZES, ensure_dataset
from bench.common import ROOT, SIZE_NOTE, print_table, write_result

CAMPAIGNS = 10
TARGET_RECOMPUTE_S, TARGET_FRESH_S = 30.0, 5.0


def ensure_tasks(customers: int) -> int:
    from django.db import connection

    from accounts.models import User
    from campaigns.models import Campaign, Task

    expected = customers * CAMPAIGNS
    campaigns = Campaign.objects.filter(slug__startswith="bench-metrics-")
    if (Task.objects.filter(follow_up_of=None).count() == expected and campaigns.count() == CAMPAIGNS
            and Task.objects.exclude(follow_up_of=None).exists()):
        return Task.objects.count()
    print(f"generating {expected:,} tasks with outcomes (once)…", flush=True)
    started = time.perf_counter()
    owner = User.objects.get(username="bench-mia")
    ids = []
    for number in range(CAMPAIGNS):
        campaign, _created = Campaign.objects.update_or_create(slug=f"bench-metrics-{number}", defaults={
            "name": f"Bench metrics {number}", "text": "t0", "expression": {"tag": "t0"}, "owner": owner,
            "status": Campaign.Status.RUNNING, "cost_fixed": 5000 + 1000 * number, "cost_per_contact": 2,
            "audience_size": customers, "holdout_pct": 10})
        ids.append(campaign.pk)
    table = Task._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
        cursor.execute(f"""
            INSERT INTO {table} (campaign_id, customer_id, assignee_id, "group", channel, status, priority, due_date,
                version, contact_result, response, failure_reason, failure_note, amount, product, note, created_at,
                updated_at, completed_at)
            SELECT k.campaign_id, c.id,
                   CASE WHEN h.g < 100 THEN NULL ELSE c.owner_id END,
                   CASE WHEN h.g < 100 THEN 'control' ELSE 'treatment' END,
                   (ARRAY['phone', 'sms', 'wechat', 'app_push'])[1 + (h.r %% 4)],
                   CASE WHEN h.o < 700 THEN 'done' ELSE 'open' END, 2, NULL, 1,
                   CASE WHEN h.o >= 700 THEN '' WHEN h.o < 550 THEN 'reached' ELSE 'unreachable' END,
                   CASE WHEN h.o < 80 THEN 'converted' WHEN h.o < 200 THEN 'interested'
                        WHEN h.o < 400 THEN 'declined' WHEN h.o < 550 THEN 'not_interested' ELSE '' END,
                   CASE WHEN h.o >= 200 AND h.o < 550 THEN (ARRAY['price', 'risk', 'timing', 'no_need'])[1 + (h.r %% 4)]
                        ELSE '' END, '',
                   CASE WHEN h.o < 80 THEN (1000 + (h.r %% 50000))::numeric ELSE NULL END, '', '',
                   now() - INTERVAL '20 days', now(),
                   CASE WHEN h.o < 700 THEN now() - (h.r %% 480) * INTERVAL '1 hour' ELSE NULL END
            FROM customers_customer c
            CROSS JOIN unnest(%s::bigint[]) AS k(campaign_id)
            CROSS JOIN LATERAL (SELECT abs(hashint8(c.id * 31 + k.campaign_id)) %% 1000 AS g,
                                       abs(hashint8(c.id * 17 + k.campaign_id * 7)) %% 1000 AS o,
                                       abs(hashint8(c.id * 13 + k.campaign_id * 3)) AS r) h""", [ids])
        # No parameters below: a plain % is the modulo operator.
        cursor.execute(f"""UPDATE {table} SET response = 'call_back', next_follow_up = CURRENT_DATE + 1
                           WHERE "group" = 'treatment' AND response = 'interested' AND id % 4 = 0""")
        cursor.execute(f"""
            INSERT INTO {table} (campaign_id, customer_id, assignee_id, "group", channel, status, priority, due_date,
                version, contact_result, response, failure_reason, failure_note, amount, product, note, created_at,
                updated_at, completed_at, follow_up_of_id)
            SELECT campaign_id, customer_id, assignee_id, 'treatment', channel,
                   CASE WHEN id % 8 = 0 THEN 'done' ELSE 'open' END, 2, NULL, 1,
                   CASE WHEN id % 8 = 0 THEN 'reached' ELSE '' END, CASE WHEN id % 8 = 0 THEN 'converted' ELSE '' END,
                   '', '', CASE WHEN id % 8 = 0 THEN 500 ELSE NULL END, '', '', completed_at, now(),
                   CASE WHEN id % 8 = 0 THEN now() ELSE NULL END, id
            FROM {table} WHERE response = 'call_back'""")
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"…generated in {time.perf_counter() - started:.0f} s", flush=True)
    return Task.objects.count()


def _naive(campaign_costs: dict[int, tuple]) -> tuple[float, dict]:
    """Every task into Python once, in customer order, folded into customers and then totals per
    campaign in a loop (what the SQL replaces)."""
    from campaigns.models import Task

    started = time.perf_counter()
    totals = defaultdict(lambda: {"tasks": 0, "contacted": 0, "converted": 0, "revenue": Decimal(0)})
    rows = (Task.objects.filter(group="treatment").order_by("campaign_id", "customer_id")
            .values_list("campaign_id", "customer_id", "contact_result", "response", "amount"))
    current, contacted, converted = None, False, False

    def close(key):
        if key is not None:
            row = totals[key[0]]
            row["tasks"] += 1
            row["contacted"] += contacted
            row["converted"] += converted

    for campaign_id, customer_id, contact, response, amount in rows.iterator(chunk_size=50_000):
        if (campaign_id, customer_id) != current:
            close(current)
            current, contacted, converted = (campaign_id, customer_id), False, False
        contacted |= contact != ""
        converted |= response == "converted"
        totals[campaign_id]["revenue"] += amount or 0
    close(current)
    return time.perf_counter() - started, dict(totals)


def _freshness(rounds: int = 5) -> list[float]:
    """Seconds from an outcome committed to its campaign's stored metrics showing it (real worker)."""
    from accounts.models import User
    from campaigns.models import CampaignMetrics, Task
    from campaigns.workspace.services import log_outcome

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", "celery"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(6)  # the worker connects to the broker
        latencies = []
        tasks = Task.objects.filter(group="treatment", status="open", campaign__slug="bench-metrics-0")
        for task in tasks.select_related("campaign")[:rounds]:
            by = User.objects.get(pk=task.assignee_id)
            before = CampaignMetrics.objects.filter(campaign_id=task.campaign_id).values_list("data", flat=True).first()
            converted_before = (before or {}).get("converted", -1)
            started = time.perf_counter()
            log_outcome(task=task, by=by, version=task.version, contact_result="reached", response="converted",
                        amount=Decimal(100))
            while time.perf_counter() - started < 60:
                data = CampaignMetrics.objects.filter(campaign_id=task.campaign_id).values_list("data", flat=True).first()
                if data and data.get("converted", -1) > converted_before:
                    break
                time.sleep(0.05)
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def run(size: str, vendor: str) -> dict:
    from accounts.services import create_or_update_user
    from campaigns.analytics import stored
    from campaigns.models import Campaign, CampaignMetrics

    customers = SIZES[size]
    ensure_dataset(customers)
    create_or_update_user(username="bench-mia", role="marketing_manager")
    tasks = ensure_tasks(customers)
    runs = []
    for _round in range(2):
        started = time.perf_counter()
        recomputed = stored.recompute_all_metrics()
        runs.append(time.perf_counter() - started)
    recompute_s = statistics.median(runs)
    costs = {pk: (fixed, per) for pk, fixed, per in Campaign.objects.values_list("pk", "cost_fixed", "cost_per_contact")}
    naive_s, naive = _naive(costs)
    for pk, data in CampaignMetrics.objects.filter(campaign__slug__startswith="bench-metrics-").values_list(
            "campaign_id", "data"):
        assert (data["tasks"], data["contacted"], data["converted"]) == (
            naive[pk]["tasks"], naive[pk]["contacted"], naive[pk]["converted"]), pk
    fresh = _freshness()
    fresh_median, fresh_max = statistics.median(fresh), max(fresh)
    met = recompute_s <= TARGET_RECOMPUTE_S and fresh_max <= TARGET_FRESH_S
    result = write_result(
        "metrics", dataset=f"{tasks:,} tasks ({customers * CAMPAIGNS:,} launched, the rest follow-ups) in "
                           f"{CAMPAIGNS} campaigns over {customers:,} customers, {vendor}",
        metric="full recompute of every campaign's metrics (median of 2)", unit="s", value=recompute_s,
        baseline=naive_s, target=f"recompute <= {TARGET_RECOMPUTE_S:.0f} s over 10M tasks; an outcome in the stored "
                                 f"metrics <= {TARGET_FRESH_S:.0f} s with a worker" + SIZE_NOTE[size],
        met=met, higher_is_better=False,
        extra={"runs_s": [round(value, 2) for value in runs], "campaigns": recomputed,
               "freshness_s": [round(value, 2) for value in fresh], "freshness_median_s": round(fresh_median, 2)})
    print_table(f"Metrics benchmark ({result['dataset']})", [
        ("full recompute (all breakdowns)", ", ".join(f"{value:.1f} s" for value in runs)),
        ("naive: every task through Python in customer order (totals only)", f"{naive_s:.1f} s"),
        ("ratio", f"{naive_s / recompute_s:.1f}x"),
        ("outcome → stored metrics (real worker, Redis)", f"median {fresh_median:.2f} s, max {fresh_max:.2f} s "
                                                          f"({len(fresh)} outcomes)"),
        ("target", f"{result['target']} -> {'met' if met else 'NOT met'}"),
    ])
    return result
