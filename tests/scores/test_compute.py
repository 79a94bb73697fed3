"""Every score against a plain per-customer computation from what the test wrote (no pandas, no SQL)."""

import math
from datetime import datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.conf import settings
from django.utils import timezone

from activity.models import Event, Holding
from scores import bgnbd, compute
from scores.models import CustomerScore, RunStatus, ScoreRun
from scores.services import compute_scores
from tests.factories import ProductFactory
from tests.segments.activity_data import PRODUCTS, make_activity
from tests.segments.conftest import make_customers

WEIGHTS = {"product_view": 3.0, "app_open": 1.0, "login": 1.0, "consultation": 5.0}
COEFFICIENTS = {"deposit": 0.0, "insurance": 0.2, "wealth": 0.3, "bond": 0.3, "advisory": 0.5, "other": 0.5,
                "fund": 0.6, "stock": 0.9, "margin": 1.0}


@pytest.fixture
def scored(db):
    today = timezone.localdate()
    records = make_customers(seed=5, size=300)
    ids = [record["id"] for record in records]
    history = make_activity(ids, seed=5, today=today)
    zone = ZoneInfo(settings.TIME_ZONE)
    # Consultation dependency needs its own signals: a contract, an advisory product, consultations.
    advisory = ProductFactory(code="ADV-1", type="advisory")
    Holding.objects.create(customer_id=ids[0], product=advisory, as_of=today, amount=Decimal(1000))
    history[ids[0]]["snapshots"].setdefault(today, {})["ADV-1"] = Decimal(1000)
    for number, (customer, kind, age) in enumerate([(ids[1], "advisory_contract", 400), (ids[2], "consultation", 10),
                                                    (ids[3], "consultation", 200), (ids[4], "consultation", 3)]):
        day = today - timedelta(days=age)
        Event.objects.create(external_id=f"C{number}", customer_id=customer, type=kind, occurred_on=day,
                             occurred_at=datetime.combine(day, time(12), tzinfo=zone))
        history[customer]["events"].append({"type": kind, "day": day})
    run = compute_scores(as_of=today)
    rows = {row.customer_id: row for row in CustomerScore.objects.filter(run=run)}
    return today, history, run, rows


def test_a_run_is_published_with_a_row_per_customer_and_its_inputs(scored):
    _today, history, run, rows = scored
    assert run.status == RunStatus.PUBLISHED and set(rows) == set(history)
    assert run.inputs["customers"] == len(history) and run.inputs["settings"]["rfm_window_days"] == 30
    assert run.churn_model["customers"] == sum(1 for item in history.values() if _purchase_days(item))


def test_rfm_matches_a_plain_computation(scored):
    today, history, _run, rows = scored
    active = {pk: item for pk, item in history.items() if item["transactions"]}
    recency = {pk: (today - max(t["day"] for t in item["transactions"])).days for pk, item in active.items()}
    frequency = {pk: sum(1 for t in item["transactions"] if t["day"] >= today - timedelta(days=29))
                 for pk, item in active.items()}
    monetary = {pk: float(sum(t["amount"] for t in item["transactions"] if t["day"] >= today - timedelta(days=29)))
                for pk, item in active.items()}

    def quintile(values: dict, pk, *, lower_is_better=False) -> int:
        mine = values[pk]
        worse = sum(1 for other in values.values() if (other > mine if lower_is_better else other < mine))
        tied = sum(1 for other in values.values() if other == mine)
        return 1 + min(4, math.floor(5 * (worse + tied / 2) / len(values)))

    for pk, row in rows.items():
        if pk not in active:
            assert row.rfm_r is None and row.recency_days is None and row.frequency == 0
            continue
        assert (row.recency_days, row.frequency) == (recency[pk], frequency[pk])
        assert row.monetary == pytest.approx(monetary[pk])
        assert row.rfm_r == quintile(recency, pk, lower_is_better=True)
        assert row.rfm_f == (quintile(frequency, pk) if frequency[pk] else 1)  # nothing in the window: 1
        assert row.rfm_m == (quintile(monetary, pk) if monetary[pk] else 1)
    assert {row.rfm_r for row in rows.values() if row.rfm_r} == {1, 2, 3, 4, 5}


def test_nothing_in_the_window_scores_f_and_m_1_however_many_share_it():
    """Half the customers idle for the window: mid-rank alone would place their tie at the 25th
    percentile (score 2)."""
    as_of = pd.Timestamp("2026-11-30")
    transactions = pd.DataFrame({
        "last_day": [as_of - pd.Timedelta(days=days) for days in (40, 50, 60, 70, 80, 1, 2, 3, 4, 5)],
        "window_count": [0, 0, 0, 0, 0, 1, 2, 3, 4, 5],
        "window_amount": [0.0] * 5 + [10.0, 20.0, 30.0, 40.0, 50.0]})
    scores = compute.rfm(SimpleNamespace(transactions=transactions, as_of=as_of.date()))
    assert compute.quintile_scores(transactions["window_count"]).iloc[0] == 2  # what mid-rank alone gives
    assert list(scores["rfm_f"]) == [1, 1, 1, 1, 1, 3, 4, 4, 5, 5]
    assert list(scores["rfm_m"]) == [1, 1, 1, 1, 1, 3, 4, 4, 5, 5]


def _purchase_days(item) -> list:
    return sorted({t["day"] for t in item["transactions"] if t["kind"] in ("buy", "trade")})


def _log_likelihood(params, summaries) -> float:
    """The BG/NBD likelihood (Fader, Hardie & Lee 2005, eq. 6) written with math, one customer at a time."""
    r, alpha, a, b = params
    total = 0.0
    for x, t_x, T in summaries:
        a1 = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
        a2 = math.lgamma(a + b) + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x)
        a3 = (alpha + T) ** -(r + x)
        a4 = (a / (b + x - 1)) * (alpha + t_x) ** -(r + x) if x > 0 else 0.0
        total += a1 + a2 + math.log(a3 + a4)
    return total


def test_churn_scores_match_the_model_written_out_and_the_fit_is_a_maximum(scored):
    today, history, run, rows = scored
    model = run.churn_model
    params = (model["r"], model["alpha"], model["a"], model["b"])
    summaries = []
    for pk, row in rows.items():
        days = _purchase_days(history[pk])
        if not days:
            assert row.p_alive is None and row.churn_risk is None
            continue
        x, t_x, T = len(days) - 1, (days[-1] - days[0]).days / 7, (today - days[0]).days / 7
        summaries.append((x, t_x, T))
        assert (row.repeat_purchases, row.purchase_recency_weeks, row.purchase_age_weeks) == pytest.approx((x, t_x, T))
        r, alpha, a, b = params
        alive = 1.0 if x == 0 else 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
        assert row.p_alive == pytest.approx(alive, rel=1e-9)
        assert row.churn_risk == pytest.approx(1 - alive, abs=1e-12)
        assert row.expected_purchases_90d >= 0
    best = _log_likelihood(params, summaries)
    assert best == pytest.approx(model["log_likelihood"], rel=1e-9)
    for position in range(4):
        for factor in (0.98, 1.02):
            moved = list(params)
            moved[position] *= factor
            # ≤ with a margin of 1e-7 of the log-likelihood: on a random history the dropout
            # parameters can sit at a boundary (a → 0) or on the ridge where b ≫ x and only a/b
            # matters — there a 2 % move of a or b changes the likelihood by ~1e-5 (seen on one day's
            # draw), below what L-BFGS-B's finite-difference gradient resolves, while a 2 % move of
            # r or α costs 0.02–0.03. The CDNOW test checks an interior optimum against the paper.
            assert _log_likelihood(moved, summaries) <= best + 1e-7 * abs(best)


def test_expected_purchases_agree_with_a_simulation_of_the_model():
    """Equation 10 against Monte Carlo draws from the fitted process for one history."""
    import numpy as np
    model = bgnbd.Fit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0, customers=0)
    rng = np.random.default_rng(1)
    # Simulate customers from the prior, keep those whose history is x = 2 over the first T = 30 weeks
    # with the last purchase in week 20 ± 1 (a slab), and count their purchases in the next 13 weeks.
    draws = 400_000
    lam = rng.gamma(model.r, 1 / model.alpha, draws)
    p = rng.beta(model.a, model.b, draws)
    future = []
    for rate, drop in zip(lam, p, strict=True):
        t, alive, times = 0.0, True, []
        while alive:
            t += rng.exponential(1 / rate) if rate > 0 else 1e9
            if t > 43:
                break
            times.append(t)
            alive = rng.random() >= drop
        before = [moment for moment in times if moment <= 30]
        if len(before) == 3 and 19 <= before[-1] - before[0] <= 21 and before[0] < 1:
            future.append(sum(1 for moment in times if 30 < moment <= 43))
        if len(future) >= 300:
            break
    expected = float(bgnbd.expected_purchases(model, 13, [2], [20 - 0.5], [30 - 0.5])[0])
    assert len(future) >= 100
    assert abs(np.mean(future) - expected) < 4 * np.std(future) / math.sqrt(len(future)) + 0.05


def test_intent_matches_a_plain_computation(scored):
    today, history, _run, rows = scored
    start = today - timedelta(days=29)
    score = {pk: sum(WEIGHTS.get(e["type"], 0) for e in item["events"] if start <= e["day"] <= today)
             for pk, item in history.items()}
    for pk, row in rows.items():
        assert row.intent_score == pytest.approx(score[pk])
        higher = sum(1 for other in score.values() if other > score[pk]) / len(score)
        expected = "bottom" if score[pk] == 0 else "top" if higher < 0.2 else "middle" if higher < 0.6 else "bottom"
        assert row.intent_group == expected, pk


def _latest(snapshots: dict, *, on_or_before):
    days = [day for day in snapshots if day <= on_or_before]
    return snapshots[max(days)] if days else None


def test_risk_preference_and_consultation_match_a_plain_computation(scored):
    today, history, _run, rows = scored
    types = {**PRODUCTS, "ADV-1": "advisory"}
    totals, raw = {}, {}
    for pk, item in history.items():
        latest = _latest(item["snapshots"], on_or_before=today)
        positive = {code: float(amount) for code, amount in (latest or {}).items() if amount > 0}
        if positive:
            totals[pk] = sum(positive.values())
            raw[pk] = sum(amount / totals[pk] * COEFFICIENTS[types[code]] for code, amount in positive.items())
    for pk, row in rows.items():
        if pk not in totals:
            assert row.risk_preference is None
            continue
        share_smaller = sum(1 for other in totals.values() if other < totals[pk]) / len(totals)
        assert row.risk_preference == pytest.approx(min(1, max(0, raw[pk] + 0.2 * (share_smaller - 0.5))))
    ids = sorted(history)
    assert rows[ids[0]].consultation == "consultation_reliant"  # holds an advisory product
    assert rows[ids[1]].consultation == "asset_managed"  # an advisory contract, however long ago
    assert rows[ids[2]].consultation == "consultation_reliant"  # consulted 10 days ago
    assert rows[ids[3]].consultation == "self_directed"  # consulted 200 days ago: outside the 180-day window
    assert rows[ids[4]].consultation == "consultation_reliant"


def test_lifecycle_follows_the_rules_in_order(scored):
    today, history, _run, rows = scored
    for pk, row in rows.items():
        item = history[pk]
        days = [t["day"] for t in item["transactions"]]
        latest = _latest(item["snapshots"], on_or_before=today)
        earlier = _latest(item["snapshots"], on_or_before=today - timedelta(days=90))
        value = float(sum(amount for amount in (latest or {}).values() if amount > 0)) if latest else None
        base = float(sum((earlier or {}).values())) if earlier is not None else None
        trend = ((value or 0) - base) / base if base else None
        if not days:
            expected = "potential"
        elif (today - max(days)).days > 180:
            expected = "churned"
        elif (today - min(days)).days <= 90:
            expected = "new"
        elif (trend is not None and trend <= -0.2) or (today - max(days)).days > 60:
            expected = "declining"
        elif (value or 0) >= 100_000:
            expected = "mature"
        else:
            expected = "growth"
        assert row.lifecycle == expected, (pk, item)
        assert row.holdings_value == (pytest.approx(value) if value is not None else None)


def test_a_second_run_replaces_the_first_and_records_who_moved(scored):
    today, _history, first, rows = scored
    second = compute_scores(as_of=today + timedelta(days=100))
    first.refresh_from_db()
    assert first.status == RunStatus.SUPERSEDED and second.status == RunStatus.PUBLISHED
    assert not CustomerScore.objects.filter(run=first).exists()
    assert CustomerScore.objects.filter(run=second).count() == len(rows)
    moved = {}
    for row in CustomerScore.objects.filter(run=second):
        before = rows[row.customer_id].lifecycle
        if before != row.lifecycle:
            moved[f"{before}→{row.lifecycle}"] = moved.get(f"{before}→{row.lifecycle}", 0) + 1
    assert second.summary["lifecycle_moves"] == moved and moved
    assert sum(second.summary["lifecycle"].values()) == len(rows)


def test_a_failed_run_keeps_the_published_one(scored, monkeypatch):
    today, _history, first, _rows = scored
    monkeypatch.setattr("scores.compute.intent", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        compute_scores(as_of=today)
    assert ScoreRun.objects.get(pk=first.pk).status == RunStatus.PUBLISHED
    assert ScoreRun.objects.order_by("-id").first().status == RunStatus.FAILED


def test_a_history_without_dropouts_gives_a_finite_fit():
    """Purchases at a steady rate and nobody leaving: the likelihood rises towards r, α → ∞ and a → 0;
    unbounded, that ran to 1e17 and reported a log-likelihood of 0 with no expected purchases."""
    import numpy as np
    rng = np.random.default_rng(4)
    T = rng.uniform(10, 52, 2000)
    counts = rng.poisson(0.5 * T)
    times = [np.sort(rng.uniform(0, t, n)) for t, n in zip(T, counts, strict=True)]
    keep = counts > 0
    x = np.array([len(item) - 1 for item in times])[keep]
    t_x = np.array([item[-1] - item[0] if len(item) else 0 for item in times])[keep]
    age = np.array([t - item[0] if len(item) else 0 for t, item in zip(T, times, strict=True)])[keep]
    model = bgnbd.fit(x, t_x, age)
    assert np.isfinite(model.log_likelihood) and model.log_likelihood < 0
    assert model.r / model.alpha == pytest.approx(0.5, rel=0.05)  # the purchase rate it was drawn with
    assert np.isfinite(bgnbd.expected_purchases(model, 13, x, t_x, age)).all()
    assert (bgnbd.p_alive(model, x, t_x, age) > 0.99).mean() > 0.9  # nobody left: nearly all alive


def test_a_run_left_running_by_a_killed_worker_is_marked_failed_by_the_next(scored):
    today, _history, first, _rows = scored
    stale = ScoreRun.objects.create(as_of=today, status=RunStatus.RUNNING)
    ScoreRun.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=3))
    compute_scores(as_of=today)
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED and "Interrupted" in stale.error
