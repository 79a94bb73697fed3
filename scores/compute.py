"""Every score from the inputs, in pandas, one column at a time (no per-customer Python).

Each function states its rule; docs/scores.md says the same for the team, and
tests/scores/test_compute.py checks each against a plain per-customer computation.
"""

import numpy as np
import pandas as pd

from customers.models import LifecycleStage

from . import bgnbd
from .inputs import Inputs
from .models import Consultation, IntentGroup

WEEK = 7.0
FORECAST_DAYS = 90
FIT_SAMPLE = 50_000  # customers the churn model is fitted on (a seeded sample beyond this)


def quintile_scores(values: pd.Series) -> pd.Series:
    """1–5 by mid-rank: 1 + ⌊5 · (customers below + half of those equal) / customers⌋. Ties share a
    score, placed at the middle of their block (a quarter of customers tied at the top still get 5)."""
    ordered = np.sort(values.to_numpy(dtype=float))
    mine = values.to_numpy(dtype=float)
    below = np.searchsorted(ordered, mine, side="left")
    equal = np.searchsorted(ordered, mine, side="right") - below
    position = (2 * below + equal) * 5 // (2 * max(len(ordered), 1))  # integer arithmetic: no rounding at edges
    return pd.Series(1 + np.minimum(4, position), index=values.index, dtype="int64")


def rfm(inputs: Inputs) -> pd.DataFrame:
    """R = days since the last transaction, F = transactions in the window, M = their amount; scored
    over the customers with any transaction (a recent one scores high: R is ranked on −days). Nothing in
    the window scores 1: by mid-rank the 40 % of customers tied at zero scored F 2, and an account
    manager read "F 2" as "trades a little"."""
    tx = inputs.transactions
    as_of = pd.Timestamp(inputs.as_of)
    frame = pd.DataFrame(index=tx.index)
    frame["recency_days"] = (as_of - tx["last_day"]).dt.days.astype("int64")
    frame["frequency"] = tx["window_count"]
    frame["monetary"] = tx["window_amount"]
    frame["rfm_r"] = quintile_scores(-frame["recency_days"])
    frame["rfm_f"] = quintile_scores(frame["frequency"]).where(frame["frequency"] > 0, 1)
    frame["rfm_m"] = quintile_scores(frame["monetary"]).where(frame["monetary"] > 0, 1)
    return frame


def purchase_history(inputs: Inputs) -> pd.DataFrame:
    """BG/NBD's summary per purchaser, in weeks: repeat purchase days x, first-to-last t_x, age T."""
    tx = inputs.transactions[inputs.transactions["purchase_days"] > 0]
    as_of = pd.Timestamp(inputs.as_of)
    return pd.DataFrame({
        "repeat_purchases": tx["purchase_days"] - 1,
        "purchase_recency_weeks": (tx["last_purchase"] - tx["first_purchase"]).dt.days / WEEK,
        "purchase_age_weeks": (as_of - tx["first_purchase"]).dt.days / WEEK,
    }, index=tx.index)


def churn(history: pd.DataFrame, *, seed: int = 0, start: dict | None = None) -> tuple[pd.DataFrame, bgnbd.Fit | None]:
    """The model fitted on the purchasers (a seeded sample past FIT_SAMPLE: 20 times the CDNOW sample
    that fixes the paper's estimates, and ~3 s of fitting instead of ~13 s per 200k), then P(alive), churn risk
    = 1 − P(alive) and the expected purchases in the next 90 days, for every purchaser."""
    if len(history) < 10 or history["repeat_purchases"].sum() == 0:
        return pd.DataFrame(index=history.index, columns=["p_alive", "churn_risk", "expected_purchases_90d"],
                            dtype=float), None
    fitted_on = history if len(history) <= FIT_SAMPLE else history.sample(FIT_SAMPLE, random_state=seed)
    model = bgnbd.fit(fitted_on["repeat_purchases"], fitted_on["purchase_recency_weeks"],
                      fitted_on["purchase_age_weeks"], start=start)
    model = bgnbd.Fit(**{**model.as_dict(), "customers": len(fitted_on), "at_bound": model.at_bound})
    x, t_x, T = (history[name].to_numpy(dtype=float)
                 for name in ("repeat_purchases", "purchase_recency_weeks", "purchase_age_weeks"))
    alive = bgnbd.p_alive(model, x, t_x, T)
    expected = bgnbd.expected_purchases(model, FORECAST_DAYS / WEEK, x, t_x, T)
    return pd.DataFrame({"p_alive": alive, "churn_risk": 1 - alive, "expected_purchases_90d": expected},
                        index=history.index), model


def intent(inputs: Inputs, weights: dict) -> pd.DataFrame:
    """Σ weight(type) × events of that type in the window; the top 20 % of customers by score form
    `top`, the next 40 % `middle`, the rest (and everyone scoring 0) `bottom`. A customer's group is
    set by the share of customers scoring strictly more, so ties share a group."""
    score = pd.Series(0.0, index=inputs.customers)
    events = inputs.events
    if len(events):
        weighted = events["count"].astype(float) * events["type"].map(lambda kind: float(weights.get(kind, 0)))
        per_customer = weighted.groupby(events["customer_id"]).sum()
        per_customer = per_customer[per_customer.index.isin(score.index)]
        score.loc[per_customer.index] = per_customer.to_numpy()
    values = score.to_numpy()
    ordered = np.sort(values)
    above = len(values) - np.searchsorted(ordered, values, side="right")
    share_above = above / max(len(values), 1)
    group = np.where((values > 0) & (share_above < 0.2), IntentGroup.TOP,
                     np.where((values > 0) & (share_above < 0.6), IntentGroup.MIDDLE, IntentGroup.BOTTOM))
    return pd.DataFrame({"intent_score": values, "intent_group": group}, index=score.index)


def risk_preference(inputs: Inputs, coefficients: dict, size_weight: float) -> pd.Series:
    """Σ share × the product type's coefficient, adjusted for asset size: + size_weight × (p − 0.5),
    p the customer's percentile of holdings total among holders, clipped to 0–1. Holders only."""
    holdings = inputs.holdings
    if not len(holdings):
        return pd.Series(dtype=float)
    total = holdings.groupby("customer_id")["amount"].sum()
    coefficient = holdings["type"].map(lambda kind: float(coefficients.get(kind, 0.5)))
    weighted = (holdings["amount"] * coefficient).groupby(holdings["customer_id"]).sum()
    raw = weighted / total
    percentile = size_percentile(total)
    return (raw + size_weight * (percentile - 0.5)).clip(0, 1)


def size_percentile(total: pd.Series) -> pd.Series:
    """The share of holders with a strictly smaller total (0 for the smallest)."""
    ordered = np.sort(total.to_numpy())
    return pd.Series(np.searchsorted(ordered, total.to_numpy(), side="left") / max(len(ordered), 1), index=total.index)


def consultation(inputs: Inputs) -> pd.Series:
    """asset-managed: an advisory contract; consultation-reliant: holds or bought an advisory product,
    or consulted (consultation events in the window); everyone else self-directed."""
    result = pd.Series(Consultation.SELF_DIRECTED.value, index=inputs.customers, dtype=object)
    holds_advisory = inputs.holdings.loc[inputs.holdings["type"] == "advisory", "customer_id"] \
        if len(inputs.holdings) else pd.Series(dtype="int64")
    reliant = inputs.advisory_buyers.union(pd.Index(holds_advisory.unique(), dtype="int64")).union(inputs.consultations)
    result[result.index.isin(reliant)] = Consultation.CONSULTATION_RELIANT.value
    result[result.index.isin(inputs.advisory_contracts)] = Consultation.ASSET_MANAGED.value
    return result


def lifecycle(inputs: Inputs, settings) -> pd.DataFrame:
    """The first rule that holds, in this order:
    potential — no transaction yet; churned — none for more than `churned_after_days`;
    new — the first within `new_within_days`; declining — holdings changed by ≤ `declining_trend` over
    `trend_days`, or no transaction for more than `declining_idle_days`; mature — holdings ≥
    `mature_value`; growth — everyone else."""
    as_of = pd.Timestamp(inputs.as_of)
    tx = inputs.transactions.reindex(inputs.customers)
    value = inputs.latest_totals.reindex(inputs.customers)
    earlier = inputs.earlier_totals.reindex(inputs.customers)
    trend = (value.fillna(0) - earlier) / earlier.where(earlier > 0)
    idle = (as_of - tx["last_day"]).dt.days
    tenure = (as_of - tx["first_day"]).dt.days
    conditions = [
        tx["last_day"].isna(),
        idle > settings.churned_after_days,
        tenure <= settings.new_within_days,
        (trend <= settings.declining_trend) | (idle > settings.declining_idle_days),
        value.fillna(0) >= float(settings.mature_value),
    ]
    stages = [LifecycleStage.POTENTIAL, LifecycleStage.CHURNED, LifecycleStage.NEW, LifecycleStage.DECLINING,
              LifecycleStage.MATURE]
    stage = np.select([condition.fillna(False).to_numpy(dtype=bool) for condition in conditions],
                      [str(item) for item in stages], default=str(LifecycleStage.GROWTH))
    return pd.DataFrame({"tenure_days": tenure, "holdings_value": value, "holdings_trend": trend,
                         "lifecycle": stage}, index=inputs.customers)


def every_score(inputs: Inputs, settings, *, start: dict | None = None) -> tuple[pd.DataFrame, bgnbd.Fit | None]:
    """One row per customer with every score column of CustomerScore, and the churn model (its search
    starting from `start`, the previous run's estimates, when given)."""
    history = purchase_history(inputs)
    churned, model = churn(history, start=start)
    frame = pd.DataFrame(index=inputs.customers)
    frame = frame.join(rfm(inputs)).join(history).join(churned).join(lifecycle(inputs, settings))
    frame = frame.join(intent(inputs, settings.intent_weights))
    frame["risk_preference"] = risk_preference(inputs, settings.risk_coefficients, settings.size_weight)
    frame["consultation"] = consultation(inputs)
    frame["frequency"] = frame["frequency"].fillna(0).astype("int64")
    frame["monetary"] = frame["monetary"].fillna(0.0)
    return frame, model
