"""Launch benchmark: a 250k-customer audience launched with round robin over 50 account managers
and a 10 % holdout (issue 5), beside a naive ORM launch (Python loop + bulk_create) in the same run.

Runs on the segments benchmark dataset (1M customers, 40 branches, 50 managers); the audience is
ten branches = 250,000 customers at full size (25,000 small).
"""

import statistics
import time

from bench.bench_segments import SIZES, ensure_dataset
from bench.common import SIZE_NOTE, print_table, write_result

ROUNDS = 3
TARGET_S = 3.0
AUDIENCE = "branch IN (BR00, BR01, BR02, BR03, BR04, BR05, BR06, BR07, BR08, BR09)"


def _reset(campaign) -> None:
    from django.db import connection

    from campaigns.models import Campaign, Task

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Task._meta.db_table} CASCADE")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DRAFT, launch_job=None, audience_size=None,
                                                   task_count=None, holdout_size=None, launched_at=None)
    campaign.transitions.all().delete()


def _product_launch(campaign, manager) -> tuple[float, dict]:
    from campaigns.lifecycle import services
    from campaigns.models import Campaign
    from core import services as job_services

    job = job_services.create_job(kind=services.LAUNCH_KIND, task="campaigns.jobs.launch_campaign", by=manager, params={"campaign_id": campaign.pk})
    Campaign.objects.filter(pk=campaign.pk).update(launch_job=job)
    started = time.perf_counter()
    result = services.run_launch(job_id=str(job.pk))  # what the worker runs: audience → tasks, one transaction
    return time.perf_counter() - started, result


def _naive_launch(campaign, managers: list[int]) -> tuple[float, int]:
    """What a straightforward ORM implementation does: rows into Python, a loop, bulk_create."""
    import random

    from django.db import transaction
    from django.utils import timezone

    from campaigns.models import Task
    from customers.models import Customer
    from segments.services import audience_for

    started = time.perf_counter()
    with transaction.atomic():
        _tree, audience = audience_for(text=AUDIENCE)
        rng, now, batch, written, turn = random.Random(campaign.holdout_seed), timezone.now(), [], 0, 0
        rows = Customer.objects.filter(pk__in=audience.ids()).values_list("pk", "do_not_contact", "opted_out_channels")
        for pk, do_not_contact, opted_out in rows.iterator(chunk_size=10_000):
            if do_not_contact or campaign.channel in opted_out:
                continue
            control = rng.random() < float(campaign.holdout_pct) / 100
            assignee = None if control else managers[turn % len(managers)]
            turn += 0 if control else 1
            batch.append(Task(campaign_id=campaign.pk, customer_id=pk, assignee_id=assignee,
                              group="control" if control else "treatment", channel=campaign.channel,
                              created_at=now, updated_at=now))
            if len(batch) == 5000:
                Task.objects.bulk_create(batch)
                written, batch = written + len(batch), []
        Task.objects.bulk_create(batch)
        written += len(batch)
    return time.perf_counter() - started, written


def run(size: str, vendor: str) -> dict:
    from accounts.models import User
    from accounts.services import create_or_update_user
    from campaigns.models import Campaign
    from segments import engine

    customers = SIZES[size]
    ensure_dataset(customers)
    engine.current_index()  # a worker's index is warm (built at start-up)
    manager = create_or_update_user(username="bench-mia", role="marketing_manager")
    managers = list(User.objects.filter(username__startswith="am").order_by("pk").values_list("pk", flat=True))
    campaign, _created = Campaign.objects.update_or_create(slug="bench-launch", defaults={
        "name": "Bench launch", "channel": "phone", "text": AUDIENCE, "expression": None, "holdout_pct": 10,
        "holdout_seed": 4242, "strategy": "round_robin", "owner": manager})
    from campaigns.lifecycle.services import save_campaign

    save_campaign(campaign=campaign, by=manager, managers=managers)

    timings, result = [], {}
    for _round in range(ROUNDS):
        _reset(campaign)
        seconds, result = _product_launch(campaign, manager)
        assert result.get("tasks"), result
        timings.append(seconds)
    created = result["tasks"] + result["holdout"]
    _reset(campaign)
    naive_s, naive_rows = _naive_launch(campaign, managers)
    _reset(campaign)

    median_s = statistics.median(timings)
    rate, naive_rate = created / median_s, naive_rows / naive_s
    met = median_s <= TARGET_S and rate >= 80_000
    out = write_result(
        "launch", dataset=f"{result['audience']:,}-customer audience of {customers:,}, round robin over "
                          f"{len(managers)} managers, 10 % holdout, {vendor}",
        metric="launch job end to end (audience → tasks committed), median of 3", unit="tasks/s", value=rate,
        baseline=naive_rate, target=f"<= {TARGET_S:.0f} s and >= 80k tasks/s for 250k" + SIZE_NOTE[size], met=met,
        extra={"median_s": round(median_s, 3), "runs_s": [round(value, 3) for value in timings],
               "rows": created, "tasks": result["tasks"], "holdout": result["holdout"],
               "naive_s": round(naive_s, 2), "naive_rows": naive_rows})
    print_table(f"Launch benchmark ({out['dataset']})", [
        ("product: runs", ", ".join(f"{value:.2f} s" for value in timings)),
        ("product: median", f"{median_s:.2f} s = {rate:,.0f} rows/s ({result['tasks']:,} tasks + "
                            f"{result['holdout']:,} holdout)"),
        ("naive ORM loop + bulk_create", f"{naive_s:.2f} s = {naive_rate:,.0f} rows/s"),
        ("ratio", f"{rate / naive_rate:.1f}x"),
        ("target", f"{out['target']} -> {'met' if met else 'NOT met'}"),
    ])
    return out
