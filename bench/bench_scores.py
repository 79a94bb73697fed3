"""Scores benchmark (issue 16): every score and every auto-tag rule for all customers, beside a naive
per-customer loop measured in the same run, on PostgreSQL.

Dataset: the activity benchmark's (1M customers, ~20M transactions, ~5M events, holdings snapshots;
`--size small`: 100k). Parts:
- a score run (`compute_scores`), twice (the first with no run before it), with its stages;
- three auto-tag rules applied (a churn band, a lifecycle stage, intent and behaviour), first (every
  member enters) and again after the next score run (only who moved);
- the naive loop: RFM, purchase history, intent and holdings of each customer by ORM queries, the way
  a per-customer job computes them, timed on a seeded sample of 1,000 customers and extrapolated to
  all of them; its RFM inputs must equal the run's for those customers (a correctness check at scale);
- freshness: a changed rule's tag counted through the segment preview as soon as its job ends.
"""

import time
from datetime import timedelta

import numpy as np

from bench.bench_activity import ensure_activity
from bench.bench_segments import ensure_dataset
from bench.common import SIZE_NOTE, print_table, write_result

SIZES = {"full": {"customers": 1_000_000}, "small": {"customers": 100_000}}
SAMPLE = 1_000
RULES = [("Churn warning", "bench-churn-warning", "churn_risk >= 0.7"),
         ("Declining", "bench-declining", "lifecycle = declining"),
         ("Hot fund buyers", "bench-hot-fund", "intent_group = top AND bought(type = fund, 90d)")]


def naive_scores(customer_ids, as_of, settings) -> tuple[float, dict]:
    """Per customer, by ORM: what compute_scores reads in a few aggregates. Returns (s per customer, RFM inputs)."""
    from django.db.models import Count, Max, Min, Sum

    from activity.models import Event, Holding, Transaction

    start = as_of - timedelta(days=settings.rfm_window_days - 1)
    intent_start = as_of - timedelta(days=settings.intent_window_days - 1)
    found = {}
    started = time.perf_counter()
    for pk in customer_ids:
        mine = Transaction.objects.filter(customer_id=pk, occurred_on__lte=as_of)
        last = mine.aggregate(last=Max("occurred_on"), first=Min("occurred_on"))
        window = mine.filter(occurred_on__gte=start).aggregate(n=Count("id"), amount=Sum("amount"))
        purchase_days = list(mine.filter(kind__in=settings.purchase_kinds).values_list("occurred_on", flat=True)
                             .distinct())
        events = dict(Event.objects.filter(customer_id=pk, occurred_on__gte=intent_start, occurred_on__lte=as_of)
                      .values_list("type").annotate(n=Count("id")))
        latest = Holding.objects.filter(customer_id=pk, as_of__lte=as_of).aggregate(day=Max("as_of"))["day"]
        holdings = list(Holding.objects.filter(customer_id=pk, as_of=latest).values_list("product__type", "amount"))
        sum(float(settings.intent_weights.get(kind, 0)) * n for kind, n in events.items())
        len(purchase_days), len(holdings)
        found[pk] = (None if last["last"] is None else (as_of - last["last"]).days, window["n"],
                     float(window["amount"] or 0))
    return (time.perf_counter() - started) / len(customer_ids), found


def run(size: str, vendor: str) -> dict:
    from django.db import connection
    from django.utils import timezone

    from accounts.services import create_or_update_user
    from autotags import services as rules
    from autotags.models import RuleApplication, TagRule
    from customers.models import CustomerTag, Tag
    from scores.models import CustomerScore, ScoreRun
    from scores.selectors import current_settings
    from scores.services import compute_scores
    from segments import engine
    from segments.services import preview

    config = SIZES[size]
    ensure_dataset(config["customers"])
    data = ensure_activity(config["customers"])
    manager = create_or_update_user(username="bench-mia", role="marketing_manager", password="bench-scores-2026")
    today = timezone.localdate()
    for rule in TagRule.objects.filter(tag__slug__startswith="bench-"):
        rules.delete_rule(rule=rule)
    CustomerTag.objects.filter(tag__slug__startswith="bench-").delete()
    Tag.objects.filter(slug__startswith="bench-").delete()

    runs = []
    for round_number in range(2):
        started = time.perf_counter()
        score_run = compute_scores(as_of=today - timedelta(days=1 - round_number))
        runs.append({"seconds": time.perf_counter() - started, "run": score_run.pk,
                     "fit_customers": score_run.churn_model.get("customers")})
        print(f"  score run {round_number + 1}: {runs[-1]['seconds']:.1f} s", flush=True)
    engine.reset()
    engine.current_index()
    first_rules = []
    for name, slug, text in RULES:
        rule = rules.save_rule(name=name, slug=slug, text=text, by=manager)
        first_rules.append(rules.apply_rule(rule=rule, reason=RuleApplication.Reason.SAVED))
    first_rules_s = sum(item.took_ms for item in first_rules) / 1000
    preview(text="bench-hot-fund")  # the index takes in the rules' first tags (a rebuild: 100k links)
    started = time.perf_counter()
    compute_scores(as_of=today + timedelta(days=1))
    scores_s = time.perf_counter() - started
    started = time.perf_counter()
    preview(text="churn_risk >= 0.7")  # the first answer after a run loads its columns into the index
    reload_s = time.perf_counter() - started
    started = time.perf_counter()
    warm = preview(text="churn_risk >= 0.7 AND rfm_r >= 4")["took_ms"]
    started = time.perf_counter()
    again = rules.apply_rules(reason=RuleApplication.Reason.SCORES)
    rules_s = time.perf_counter() - started
    total_s = scores_s + rules_s

    # A changed rule, visible in a segment count as soon as its application ends.
    rule = TagRule.objects.get(tag__slug="bench-churn-warning")
    started = time.perf_counter()
    rules.save_rule(name=rule.name, text="churn_risk >= 0.5", rule=rule, by=manager)
    applied = rules.apply_rule(rule=rule, reason=RuleApplication.Reason.SAVED)
    counted = preview(text="bench-churn-warning")["count"]
    fresh_s = time.perf_counter() - started
    expected = preview(text="churn_risk >= 0.5")["count"]

    current = ScoreRun.objects.filter(status="published").order_by("-id").first()
    ids = np.array(sorted(CustomerScore.objects.filter(run=current).values_list("customer_id", flat=True)))
    sample = np.random.default_rng(3).choice(ids, size=min(SAMPLE, len(ids)), replace=False).tolist()
    per_customer_s, naive = naive_scores(sample, current.as_of, current_settings())
    naive_total_s = per_customer_s * len(ids)
    ours = {row[0]: row[1:] for row in CustomerScore.objects.filter(run=current, customer_id__in=sample)
            .values_list("customer_id", "recency_days", "frequency", "monetary")}
    wrong = sum(1 for pk in sample if (ours[pk][0], ours[pk][1]) != naive[pk][:2]
                or abs(ours[pk][2] - naive[pk][2]) > 0.01)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('scores_customerscore'))"
                       if vendor.startswith("postgres") else "SELECT ''")
        table_size = cursor.fetchone()[0]

    dataset = (f"{len(ids):,} customers, {data['transactions']:,} transactions, {data['events']:,} events, "
               f"{data['holdings']:,} holdings, {vendor}")
    note = SIZE_NOTE[size]
    stages = current.inputs
    result = write_result(
        "scores", dataset=dataset, metric="every score and 3 auto-tag rules recomputed (after a day's change)",
        unit="s", value=total_s, baseline=naive_total_s, higher_is_better=False,
        target="<= 60 s; a rule change visible in segment counts when its job ends" + note,
        met=total_s <= 60 and counted == expected == applied.members and wrong == 0,
        extra={"scores_s": round(scores_s, 1), "rules_s": round(rules_s, 1),
               "first_runs_s": [round(item["seconds"], 1) for item in runs],
               "first_rule_applications_s": round(first_rules_s, 1),
               "rule_members": {item.rule.tag.slug: item.members for item in again},
               "rule_changes": {item.rule.tag.slug: item.entered + item.left for item in again},
               "naive_per_customer_ms": round(per_customer_s * 1000, 2), "naive_sample": len(sample),
               "sample_rfm_mismatches": wrong, "fit_customers": runs[-1]["fit_customers"],
               "rule_change_visible_s": round(fresh_s, 2), "table_size": table_size,
               "index_score_reload_s": round(reload_s, 2), "warm_score_preview_ms": warm,
               "stages_s": stages.get("stages_s")})
    rows = [("score run (1st, 2nd)", ", ".join(f"{item['seconds']:.1f} s" for item in runs)),
            ("score run after a day's change", f"{scores_s:.1f} s  stages {stages.get('stages_s')}"),
            ("3 rules, first application (all enter)", f"{first_rules_s:.1f} s"),
            ("3 rules after the score run", f"{rules_s:.1f} s  " + ", ".join(
                f"{item.rule.tag.slug} {item.members:,} (+{item.entered:,} −{item.left:,})" for item in again)),
            ("scores + rules", f"{total_s:.1f} s"),
            ("first preview after a run (loads its columns)", f"{reload_s:.2f} s; then {warm:.2f} ms engine time"),
            ("naive per-customer loop", f"{per_customer_s * 1000:.1f} ms × {len(ids):,} = {naive_total_s:,.0f} s "
                                        f"(timed on {len(sample):,})"),
            ("ratio naive / ours", f"{naive_total_s / total_s:,.0f}×"),
            ("RFM inputs of the sample equal to the naive loop", f"{len(sample) - wrong:,} of {len(sample):,}"),
            ("changed rule counted in a preview after", f"{fresh_s:.2f} s ({counted:,} = {expected:,})"),
            ("scores table", table_size), ("scores", "met" if result["met"] else "NOT met")]
    print_table(f"Scores benchmark ({dataset})", rows)
    return result
