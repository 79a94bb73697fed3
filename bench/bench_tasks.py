"""Task list benchmark (issue 6): the account manager's queue and work view at 1M customers /
2M tasks / 50 managers, server time through the Django views, beside a naive queue (all of the
manager's open tasks loaded and sorted in Python, related rows fetched one by one).

Runs on the segments benchmark dataset; the tasks are generated once (two campaigns, every
customer in both, assigned to the customer's owner, due dates over ±30 days, ~30 % done).
"""

import statistics
import time

import numpy as np

from bench.bench_segments import SIZES, ensure_dataset
from bench.common import SIZE_NOTE, print_table, write_result

ROUNDS = 20
TARGET_P95_MS = 150.0
PAGES = [
    ("queue: open, by due date", "/campaigns/my-tasks/"),
    ("queue: due today", "/campaigns/my-tasks/?bucket=today"),
    ("queue: overdue by priority", "/campaigns/my-tasks/?bucket=overdue&sort=priority"),
    ("queue: by assets", "/campaigns/my-tasks/?sort=assets"),
    ("queue: page 20", "/campaigns/my-tasks/?page=20"),
    ("work view", "/campaigns/my-tasks/work/"),
]


def ensure_tasks(customers: int) -> int:
    from django.db import connection

    from accounts.models import User
    from campaigns.models import Campaign, Task

    expected = customers * 2
    if Task.objects.count() == expected and Campaign.objects.filter(slug__startswith="bench-queue").count() == 2:
        with connection.cursor() as cursor:  # steady state: autovacuum has set the visibility map
            cursor.execute(f"VACUUM ANALYZE {Task._meta.db_table}")
        return expected
    print(f"generating {expected:,} tasks (once)…", flush=True)
    started = time.perf_counter()
    owner = User.objects.get(username="bench-mia")
    campaign_ids = []
    for number in (1, 2):
        campaign, _created = Campaign.objects.update_or_create(slug=f"bench-queue-{number}", defaults={
            "name": f"Bench queue {number}", "text": "t0", "expression": {"tag": "t0"}, "owner": owner,
            "status": Campaign.Status.RUNNING, "script": "Hello, this is your bank calling about your account."})
        campaign_ids.append(campaign.pk)
    table = Task._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
        cursor.execute(f"""
            INSERT INTO {table} (campaign_id, customer_id, assignee_id, "group", channel, status, priority, due_date,
                version, contact_result, response, failure_reason, failure_note, product, note, created_at, updated_at,
                completed_at)
            SELECT k.campaign_id, c.id, c.owner_id, 'treatment', 'phone',
                   CASE WHEN (hashint8(c.id * 7 + k.n) & 1023) < 307 THEN 'done' ELSE 'open' END,
                   1 + (abs(hashint8(c.id + k.n)) %% 3),
                   CURRENT_DATE + ((abs(hashint8(c.id * 13 + k.n)) %% 61) - 30)::int,
                   1, '', '', '', '', '', '', now(), now(), NULL
            FROM customers_customer c CROSS JOIN unnest(%s::bigint[], ARRAY[1, 2]) AS k(campaign_id, n)""",
                       [campaign_ids])
    with connection.cursor() as cursor:  # steady state: autovacuum has set the visibility map
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"…generated in {time.perf_counter() - started:.0f} s", flush=True)
    return expected


def _naive_queue(user) -> float:
    """All the manager's open tasks into Python, sorted there, 50 shown with per-row lookups."""
    from campaigns.models import Task

    started = time.perf_counter()
    tasks = list(Task.objects.filter(assignee=user, group="treatment", status__in=["open", "in_progress"]))
    tasks.sort(key=lambda task: (task.due_date, task.priority, task.pk))
    for task in tasks[:50]:
        _ = (task.customer.name, task.customer.assets, task.campaign.name)
    return (time.perf_counter() - started) * 1000


def run(size: str, vendor: str) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.services import create_or_update_user

    customers = SIZES[size]
    ensure_dataset(customers)
    create_or_update_user(username="bench-mia", role="marketing_manager")
    tasks = ensure_tasks(customers)
    manager = User.objects.get(username="am07")
    client = Client()
    client.force_login(manager)

    timings, queries = {}, {}
    for label, path in PAGES:
        client.get(path)  # warm: the first opening marks the task in progress
        samples = []
        for _round in range(ROUNDS):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            queries[label] = len(captured)
        timings[label] = samples
    naive = [_naive_queue(manager) for _round in range(3)]

    everything = [value for samples in timings.values() for value in samples]
    p50, p95 = statistics.median(everything), float(np.percentile(everything, 95))
    naive_median = statistics.median(naive)
    met = p95 <= TARGET_P95_MS
    result = write_result(
        "tasks", dataset=f"{customers:,} customers, {tasks:,} tasks, 50 managers (~{tasks // 50:,} tasks each), {vendor}",
        metric="queue and work view p95 server time (Django test client, in process)", unit="ms", value=p95,
        baseline=naive_median, target=f"p95 <= {TARGET_P95_MS:.0f} ms, constant queries per page" + SIZE_NOTE[size],
        met=met, higher_is_better=False,
        extra={"p50_ms": round(p50, 1), "naive_queue_ms": round(naive_median, 1), "rounds": ROUNDS,
               "pages": {label: {"p50_ms": round(statistics.median(values), 1),
                                 "p95_ms": round(float(np.percentile(values, 95)), 1), "queries": queries[label]}
                         for label, values in timings.items()}})
    rows = [(label, f"p50 {statistics.median(values):6.1f} ms  p95 {np.percentile(values, 95):6.1f} ms  "
                    f"{queries[label]} queries") for label, values in timings.items()]
    rows += [("all pages p50 / p95", f"{p50:.1f} / {p95:.1f} ms"),
             ("naive queue (load all, sort in Python, N+1)", f"{naive_median:.0f} ms"),
             ("target", f"{result['target']} -> {'met' if met else 'NOT met'}")]
    print_table(f"Task list benchmark ({result['dataset']})", rows)
    return result
