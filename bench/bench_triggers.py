"""Key-event benchmark (issue 17): events through `POST /api/v1/events/` on gunicorn at a steady rate
with 50 active rules, acted on by a real Celery worker on Redis; PostgreSQL.

- latency: from each batch's acknowledgement to its tasks being in the owner's queue (a poller reads
  the task table every 0.25 s, as the queue page would), p50/p95;
- exactly once: the tasks made equal a direct computation over the events sent (type, properties,
  the rule's segment by the naive SQL oracle, one per rule × customer × window): 0 missing, 0 extra,
  0 duplicates — checked in the database;
- the same with the worker killed (SIGKILL) half-way and a new one started;
- naive baseline, same run: each event checked rule by rule with the ORM and its task made with
  get_or_create, one transaction per event (how a plug-in without batching does it), events/s.

Dataset: the segment benchmark's customers (1M; `--size small` 100k), each with an active owner.
Rates: full 1,000 events/s for 60 s per phase; small 200 events/s for 15 s.
"""

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.bench_activity import _token
from bench.bench_segments import ensure_dataset
from bench.common import ROOT, SIZE_NOTE, print_table, write_result

SIZES = {"full": {"customers": 1_000_000, "rate": 1000, "seconds": 60},
         "small": {"customers": 100_000, "rate": 200, "seconds": 15}}
BATCH = 100
EVENT_TYPES = [f"bench_event_{number}" for number in range(10)] + ["bench_noise"]
PREFIX = "bench-trigger-"
SEGMENTS = ["", "t0", "t1 AND NOT t2", "assets >= 100000", "branch IN (BR00, BR01, BR02)"]


def rule_specs() -> list[dict]:
    """50 rules over 10 event types: property conditions, segments, alerts, absences."""
    specs = []
    for number in range(50):
        kind = EVENT_TYPES[number % 10]
        spec = {"name": f"{PREFIX}{number:02d}", "event": kind, "segment": SEGMENTS[number % len(SEGMENTS)],
                "properties": {"level": {"gte": number % 4}} if number % 3 else {"channel": ["app", "web"][number % 2]},
                "action": "alert" if number % 10 == 9 else "task", "window_hours": 24}
        if number % 10 == 8:  # "did A but not B within 1 h": waits, makes no task within the run
            spec.update(absent_event="bench_noise", absent_within_hours=1)
        specs.append(spec)
    return specs


def properties_match(conditions: dict, properties: dict) -> bool:
    for key, test in conditions.items():
        if isinstance(test, dict):
            if key not in properties or not properties[key] >= test["gte"]:
                return False
        elif properties.get(key) != test:
            return False
    return True


def random_properties(rng: random.Random) -> dict:
    return {"level": rng.randrange(0, 5), "channel": rng.choice(["app", "web", "branch"])}


def setup_rules(manager) -> list:
    from campaigns.models import Campaign, Task, TriggerRule
    from campaigns.triggers import services

    old = list(TriggerRule.objects.filter(name__startswith=PREFIX).values_list("campaign_id", flat=True))
    Task.objects.filter(campaign_id__in=old).delete()
    TriggerRule.objects.filter(name__startswith=PREFIX).delete()
    Campaign.objects.filter(pk__in=old).delete()
    return [services.save_rule(by=manager, **spec) for spec in rule_specs()]


def segment_members(rules) -> dict[int, set[int] | None]:
    """Each rule's segment by the naive SQL oracle (None: everyone)."""
    from segments.compiler import resolve
    from segments.naive import naive_ids

    cache, members = {}, {}
    for rule in rules:
        if rule.expression is None:
            members[rule.pk] = None
            continue
        if rule.text not in cache:
            cache[rule.text] = naive_ids(resolve(rule.expression))
        members[rule.pk] = cache[rule.text]
    return members


# --- processes -----------------------------------------------------------------------------------

def _env() -> dict:
    # Quiet hours off: the benchmark runs at any hour and measures making tasks, not deferring them.
    return {**os.environ, "DEBUG": "0", "CONTACT_QUIET_HOURS": "", "LOG_LEVEL": "WARNING"}


def start_gunicorn(port: int) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / "bench-triggers-gunicorn.log", "w")
    return subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py",
                             "--access-logfile", "/dev/null", "config.wsgi"], cwd=ROOT,
                            env={**_env(), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def start_worker(name: str) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"bench-triggers-{name}.log", "w")
    return subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "--pool=solo",
                             "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle",
                             "-n", f"{name}@%h"], cwd=ROOT,
                            env={**_env(), "CELERY_VISIBILITY_TIMEOUT_S": "10", "CELERY_UNACKED_RESTORE_INTERVAL_S": "2"},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, *, kill: bool = False) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    process.wait(timeout=60)


def warm_worker() -> None:
    """Wait for the worker to answer (and build its audience index) before the clock starts."""
    from celery import current_app

    current_app.loader.import_default_modules()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        replies = current_app.control.ping(timeout=2)
        if replies:
            return
    raise RuntimeError("the worker did not start")


# --- one phase -----------------------------------------------------------------------------------

def send(base, token, run, externals, rate, seconds, rng) -> dict:
    """`rate` events/s in batches of BATCH for `seconds`; each event's acknowledgement time."""
    sent, acked, errors = [], {}, 0
    interval = BATCH / rate
    started = time.monotonic()
    lock = threading.Lock()

    def post(items):
        nonlocal errors
        request = urllib.request.Request(f"{base}/api/v1/events/", data=json.dumps({"items": items}).encode(),  # noqa: S310
                                         headers={"Content-Type": "application/json", "Authorization": f"Token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                body = json.loads(response.read())
            now = time.time()
            with lock:
                if body["accepted"] == len(items):
                    for item in items:
                        acked[item["id"]] = now
                else:
                    errors += 1
        except OSError:
            with lock:
                errors += 1

    threads, sequence = [], 0
    while time.monotonic() - started < seconds:
        at = datetime.now().astimezone() - timedelta(seconds=1)
        items = [{"id": f"{run}-{sequence + n}", "customer": rng.choice(externals), "type": rng.choice(EVENT_TYPES),
                  "occurred_at": at.isoformat(), "properties": random_properties(rng)} for n in range(BATCH)]
        sequence += BATCH
        sent.extend(items)
        thread = threading.Thread(target=post, args=(items,))
        thread.start()
        threads.append(thread)
        pause = started + len(threads) * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    for thread in threads:
        thread.join()
    return {"sent": sent, "acked": acked, "errors": errors, "seconds": time.monotonic() - started}


class Poller:
    """When each task first shows in the task table (the owner's queue reads it)."""

    def __init__(self, rule_ids):
        self.rule_ids, self.seen, self.last = list(rule_ids), {}, 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        from django.db import connection

        from campaigns.models import Task

        while self.running:
            rows = list(Task.objects.filter(pk__gt=self.last, trigger_id__in=self.rule_ids)
                        .values_list("pk", "trigger_event_id"))
            now = time.time()
            for pk, event_id in rows:
                self.seen[pk] = (event_id, now)
                self.last = max(self.last, pk)
            time.sleep(0.25)
        connection.close()


def warm_up(base, token, name, externals) -> None:
    """One batch of every event type through the worker first: it builds its audience index (tens of
    seconds at 1M) before the clock starts, as a worker that has been running would have."""
    from campaigns.models import PendingTriggerEvent

    send(base, token, f"{PREFIX}warm-{name}-{time.time_ns()}", externals, BATCH, 1, random.Random(0))
    deadline = time.monotonic() + 600
    while PendingTriggerEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def settle(rules, timeout=300) -> None:
    from campaigns.models import PendingTriggerEvent

    deadline = time.monotonic() + timeout
    while PendingTriggerEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)


def check(rules, members, sent, acked, seen, customers_by_external) -> dict:
    """The tasks in the database against the direct computation over the acknowledged events."""
    from django.conf import settings

    from activity.models import Event
    from campaigns.models import Task, TriggerFiring

    zone = ZoneInfo(settings.TIME_ZONE)
    by_id = {item["id"]: item for item in sent if item["id"] in acked}
    rules_by_type = {}
    for rule in rules:
        rules_by_type.setdefault(rule.event, []).append(rule)
    expected_tasks, expected_waiting, expected_alerts, first_event = set(), set(), set(), {}
    for item in sorted(by_id.values(), key=lambda item: (item["occurred_at"], item["id"])):
        customer = customers_by_external[item["customer"]]
        local = datetime.fromisoformat(item["occurred_at"]).astimezone(zone).replace(tzinfo=None)
        for rule in rules_by_type.get(item["type"], ()):
            scope = members[rule.pk]
            if not properties_match(rule.properties, item["properties"]) or (scope is not None and customer not in scope):
                continue
            key = (rule.pk, customer, int((local - datetime(1970, 1, 1)).total_seconds() // 3600) // rule.window_hours)
            first_event.setdefault(key, item["id"])
            (expected_waiting if rule.absent_event else expected_alerts if rule.action == "alert"
             else expected_tasks).add(key)
    rule_ids = [rule.pk for rule in rules]
    windows = {rule.pk: rule.window_hours for rule in rules}
    ids, external = list(by_id), {}
    for start in range(0, len(ids), 20_000):
        external.update(Event.objects.filter(external_id__in=ids[start:start + 20_000]).values_list("pk", "external_id"))
    tasks = list(Task.objects.filter(trigger_id__in=rule_ids).values_list("pk", "trigger_id", "customer_id",
                                                                          "trigger_event_id"))
    made = [(rule, customer, _window(by_id[external[event]]["occurred_at"], windows[rule], zone))
            for _pk, rule, customer, event in tasks if event in external]
    firings = TriggerFiring.objects.filter(rule_id__in=rule_ids)
    waiting = set(firings.filter(outcome="waiting").values_list("rule_id", "customer_id", "window_key"))
    alerts = set(firings.filter(outcome="alert").values_list("rule_id", "customer_id", "window_key"))
    latencies = []
    for pk, event_id in ((pk, event) for pk, (event, _at) in seen.items()):
        if event_id in external:
            latencies.append(seen[pk][1] - acked[external[event_id]])
    return {"expected_tasks": len(expected_tasks), "tasks": len(tasks), "unknown_event_tasks": len(tasks) - len(made),
            "duplicates": len(made) - len(set(made)), "missing": len(expected_tasks - set(made)),
            "extra": len(set(made) - expected_tasks), "waiting_expected": len(expected_waiting),
            "waiting_missing": len(expected_waiting - waiting), "waiting_extra": len(waiting - expected_waiting),
            "alerts_expected": len(expected_alerts), "alerts_missing": len(expected_alerts - alerts),
            "alerts_extra": len(alerts - expected_alerts), "latencies": latencies}


def _window(occurred_at: str, hours: int, zone) -> int:
    local = datetime.fromisoformat(occurred_at).astimezone(zone).replace(tzinfo=None)
    return int((local - datetime(1970, 1, 1)).total_seconds() // 3600) // hours


def phase(name, base, token, rules, members, externals, customers_by_external, rate, seconds, *, kill_at=None):
    from campaigns.models import Task, TriggerFiring

    rule_ids = [rule.pk for rule in rules]
    Task.objects.filter(trigger_id__in=rule_ids).delete()
    TriggerFiring.objects.filter(rule_id__in=rule_ids).delete()
    # Two worker processes, as a deployment runs more than one: the kill takes one of them.
    worker, other = start_worker(f"{name}-1"), start_worker(f"{name}-2")
    warm_worker()
    for _ in range(2):  # each builds its audience index on its first batch
        warm_up(base, token, name, externals)
    Task.objects.filter(trigger_id__in=rule_ids).delete()
    TriggerFiring.objects.filter(rule_id__in=rule_ids).delete()
    poller = Poller(rule_ids)
    poller.thread.start()
    replacement = None
    killer = None
    if kill_at is not None:
        def kill_and_replace():
            nonlocal replacement
            time.sleep(kill_at)
            stop(worker, kill=True)
            replacement = start_worker(f"{name}-3")

        killer = threading.Thread(target=kill_and_replace)
        killer.start()
    try:
        result = send(base, token, f"{PREFIX}{name}-{int(time.time())}", externals, rate, seconds,
                      random.Random(1 if name == "steady" else 2))
        if killer:
            killer.join()
        settle(rules)
    finally:
        poller.running = False
        poller.thread.join(timeout=10)
        for process in (worker, other, replacement):
            if process is not None:
                stop(process)
    checked = check(rules, members, result["sent"], result["acked"], poller.seen, customers_by_external)
    latencies = sorted(checked.pop("latencies"))
    return {**checked, "acknowledged": len(result["acked"]), "errors": result["errors"],
            "rate": len(result["acked"]) / result["seconds"],
            "p50_s": statistics.median(latencies) if latencies else None,
            "p95_s": latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
            "max_s": latencies[-1] if latencies else None}


# --- naive baseline ------------------------------------------------------------------------------

def naive_rate(rules, externals, sample: int = 200) -> float:
    """Each event on its own: every rule checked with the ORM (segment membership by a query per rule),
    its task made with get_or_create, a transaction per event — rolled back at the end."""
    from django.db import transaction
    from django.utils import timezone

    from campaigns.models import Task
    from customers.models import Customer
    from segments.compiler import resolve
    from segments.naive import naive_sql

    rng = random.Random(7)
    by_type = {}
    for rule in rules:
        by_type.setdefault(rule.event, []).append(rule)
    sqls = {rule.pk: naive_sql(resolve(rule.expression)) if rule.expression else None for rule in rules}
    events = [{"customer": rng.choice(externals), "type": rng.choice(EVENT_TYPES), "properties": random_properties(rng)}
              for _ in range(sample)]

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic():
            from django.db import connection

            for item in events:
                with transaction.atomic():
                    customer = Customer.objects.get(external_id=item["customer"])
                    for rule in by_type.get(item["type"], ()):
                        if not properties_match(rule.properties, item["properties"]):
                            continue
                        if sqls[rule.pk] is not None:
                            sql, params = sqls[rule.pk]
                            with connection.cursor() as cursor:
                                cursor.execute(f"SELECT 1 FROM ({sql}) AS audience WHERE id = %s", [*params, customer.pk])
                                if cursor.fetchone() is None:
                                    continue
                        now = timezone.now()
                        Task.objects.get_or_create(
                            campaign_id=rule.campaign_id, customer=customer, trigger=rule, due_date=now.date(),
                            defaults={"assignee_id": customer.owner_id, "created_at": now, "updated_at": now})
            raise Rollback
    except Rollback:
        pass
    return sample / (time.perf_counter() - started)


# --- the run -------------------------------------------------------------------------------------

def run(size: str, vendor: str) -> dict:
    from accounts.services import create_or_update_user
    from customers.models import Customer

    config = SIZES[size]
    ensure_dataset(config["customers"])
    password = "bench-password-triggers-2026"
    manager = create_or_update_user(username="bench-mia", role="marketing_manager", password=password)
    rules = setup_rules(manager)
    print("50 rules; their segments by the naive SQL… ", flush=True)
    members = segment_members(rules)
    pairs = list(Customer.objects.filter(external_id__startswith="B").values_list("external_id", "pk")[:200_000])
    externals, customers_by_external = [external for external, _pk in pairs], dict(pairs)
    baseline = naive_rate(rules, externals)

    port = 8767
    server = start_gunicorn(port)
    base = f"http://127.0.0.1:{port}"
    try:
        token = _token(base, password)
        steady = phase("steady", base, token, rules, members, externals, customers_by_external, config["rate"],
                       config["seconds"])
        killed = phase("killed", base, token, rules, members, externals, customers_by_external, config["rate"],
                       config["seconds"], kill_at=config["seconds"] / 2)
    finally:
        stop(server)

    dataset = f"{Customer.objects.count():,} customers, 50 rules over 10 event types, {vendor}"
    note = SIZE_NOTE[size]
    rows, results = [], []
    for label, measured in (("steady", steady), ("worker killed half-way", killed)):
        exact = not (measured["missing"] or measured["extra"] or measured["duplicates"] or measured["waiting_missing"]
                     or measured["waiting_extra"] or measured["alerts_missing"] or measured["alerts_extra"])
        met = (exact and measured["p95_s"] is not None and measured["p95_s"] <= 10
               and measured["rate"] >= 0.95 * config["rate"] and not measured["errors"])
        name = "triggers" if label == "steady" else "triggers_worker_killed"
        results.append(write_result(
            name, dataset=dataset, metric=f"p95 seconds from acknowledgement to the task in the owner's queue ({label})",
            unit="s", value=measured["p95_s"] or 0, baseline=0, higher_is_better=False,
            target=f"<= 10 s at {config['rate']:,} events/s, 0 duplicate, 0 missing" + note, met=met,
            extra={**measured, "naive_events_per_s": round(baseline, 1), "rate_target": config["rate"]}))
        rows.append((f"{label}: events/s acknowledged", f"{measured['rate']:,.0f} ({measured['acknowledged']:,} events, "
                                                        f"{measured['errors']} errors)"))
        rows.append((f"{label}: ack → task p50 / p95 / max", f"{measured['p50_s']:.2f} / {measured['p95_s']:.2f} / "
                                                             f"{measured['max_s']:.2f} s" if measured["p95_s"] else "—"))
        rows.append((f"{label}: tasks made / expected", f"{measured['tasks']:,} / {measured['expected_tasks']:,}; "
                                                        f"missing {measured['missing']}, extra {measured['extra']}, "
                                                        f"duplicates {measured['duplicates']}"))
        rows.append((f"{label}: waiting / alerts off", f"{measured['waiting_missing'] + measured['waiting_extra']} / "
                                                       f"{measured['alerts_missing'] + measured['alerts_extra']}"))
        rows.append((f"{label}: met", "yes" if met else "NO"))
    rows.append(("naive: ORM per event, get_or_create", f"{baseline:,.0f} events/s (one process)"))
    print_table(f"Key events — {dataset}", rows)
    return {"results": results}
