"""Reads: the settings, the published run, one customer's scores with what each came from."""

from datetime import timedelta

import pandas as pd
from django.db.models import Count, F, IntegerField, Sum
from django.db.models.functions import Cast, Least
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activity.models import Event, Holding
from customers.models import LifecycleStage

from .inputs import frame_of, window_start
from .models import Consultation, CustomerScore, IntentGroup, RunStatus, ScoreRun, ScoreSettings


def current_settings() -> ScoreSettings:
    settings = ScoreSettings.objects.order_by("pk").first()
    return settings if settings is not None else ScoreSettings.objects.create()


def published_run() -> ScoreRun | None:
    return ScoreRun.objects.filter(status=RunStatus.PUBLISHED).order_by("-id").first()


def published_run_id() -> int | None:
    """The published run's id in one indexed read (the audience index asks before every answer)."""
    return ScoreRun.objects.filter(status=RunStatus.PUBLISHED).order_by("-id").values_list("id", flat=True).first()


def run_frame(run_id: int, columns: list[str]) -> pd.DataFrame:
    """One run's rows (these columns), indexed by customer id."""
    sql = f"SELECT customer_id, {', '.join(columns)} FROM {CustomerScore._meta.db_table} WHERE run_id = %s"
    return frame_of(sql, [run_id], ["customer_id", *columns]).set_index("customer_id")


def recent_runs(limit: int = 10):
    return ScoreRun.objects.order_by("-id")[:limit]


def lifecycle_moves_since(days: int = 7, *, now=None) -> dict:
    """Customers per lifecycle change over the runs published in the last `days` days, summed
    ("moves": a customer who left a stage and came back counts in both)."""
    now = now or timezone.now()
    totals: dict[str, int] = {}
    runs = ScoreRun.objects.filter(finished_at__gte=now - timedelta(days=days)).exclude(
        status__in=[RunStatus.RUNNING, RunStatus.FAILED])
    for summary in runs.values_list("summary", flat=True):
        for move, count in (summary or {}).get("lifecycle_moves", {}).items():
            totals[move] = totals.get(move, 0) + count
    return totals


def moves_into(stage: str, moves: dict) -> int:
    return sum(count for move, count in moves.items() if move.split("→")[1] == stage)


# --- one customer ----------------------------------------------------------------------------------

def customer_scores(customer) -> dict | None:
    """Every score of the customer in the published run, each with its inputs and a sentence an
    account manager can read out; None before the first run."""
    run = published_run()
    if run is None:
        return None
    row = CustomerScore.objects.filter(run=run, customer=customer).first()
    if row is None:
        return {"run": run, "scores": []}
    settings = run.inputs.get("settings", {})
    return {"run": run, "row": row, "scores": [
        _rfm(row, settings), _churn(row, run), _lifecycle(row, settings), _intent(row, run, settings, customer),
        _risk(row, run, settings, customer), _consultation(row),
    ]}


def _score(name, label, value, explanation, inputs) -> dict:
    return {"name": name, "label": label, "value": value, "explanation": explanation, "inputs": inputs}


def _rfm(row, settings) -> dict:
    days = settings.get("rfm_window_days", 30)
    if row.rfm_r is None:
        return _score("rfm", _("RFM"), None, _("No transaction yet."), {"window_days": days})
    text = _("RFM %(cell)s: %(last)s (R %(r)d), %(count)s (F %(f)d), amount %(amount)s (M %(m)d).") % {
        "cell": row.rfm_cell, "last": _days_ago(_("last transaction"), row.recency_days), "r": row.rfm_r,
        "count": ngettext("%(count)d transaction in %(days)d days", "%(count)d transactions in %(days)d days",
                          row.frequency) % {"count": row.frequency, "days": days},
        "f": row.rfm_f, "amount": f"{row.monetary:,.2f}", "m": row.rfm_m}
    return _score("rfm", _("RFM"), {"r": row.rfm_r, "f": row.rfm_f, "m": row.rfm_m, "cell": row.rfm_cell}, text,
                  {"recency_days": row.recency_days, "transactions": row.frequency, "amount": round(row.monetary, 2),
                   "window_days": days})


def _days_ago(what: str, days: int) -> str:
    """"last purchase today", "… 1 day ago", "… 94 days ago"."""
    if days == 0:
        return _("%(what)s today") % {"what": what}
    return ngettext("%(what)s %(days)d day ago", "%(what)s %(days)d days ago", days) % {"what": what, "days": days}


def _churn(row, run) -> dict:
    model = run.churn_model
    if row.p_alive is None:
        reason = _("No purchase yet.") if row.repeat_purchases is None else _("The churn model could not be fitted.")
        return _score("churn_risk", _("Churn risk"), None, reason, {})
    last_purchase_days = round((row.purchase_age_weeks - row.purchase_recency_weeks) * 7)
    purchase_days = row.repeat_purchases + 1
    text = _("Churn risk %(risk).2f: %(last)s, %(count)s, P(alive) %(alive).2f; expected purchases in the next "
             "90 days %(expected)s.") % {
        "risk": row.churn_risk, "last": _days_ago(_("last purchase"), last_purchase_days),
        "count": ngettext("%(count)d purchase day in %(weeks).1f weeks", "%(count)d purchase days in %(weeks).1f weeks",
                          purchase_days) % {"count": purchase_days, "weeks": row.purchase_age_weeks},
        "alive": row.p_alive,
        "expected": "—" if row.expected_purchases_90d is None else f"{row.expected_purchases_90d:.2f}"}
    return _score("churn_risk", _("Churn risk"), round(row.churn_risk, 4), text, {
        "frequency": row.repeat_purchases, "recency_weeks": round(row.purchase_recency_weeks, 4),
        "age_weeks": round(row.purchase_age_weeks, 4), "p_alive": round(row.p_alive, 4),
        "expected_purchases_90d": None if row.expected_purchases_90d is None else round(row.expected_purchases_90d, 4),
        "model": {key: model.get(key) for key in ("r", "alpha", "a", "b")}})


def _lifecycle(row, settings) -> dict:
    stage = LifecycleStage(row.lifecycle)
    reasons = {
        LifecycleStage.POTENTIAL: _("no transaction yet"),
        LifecycleStage.CHURNED: _("no transaction for %(days)s days (more than %(limit)s)") % {
            "days": row.recency_days, "limit": settings.get("churned_after_days")},
        LifecycleStage.NEW: _("first transaction %(days)s days ago (within %(limit)s)") % {
            "days": row.tenure_days, "limit": settings.get("new_within_days")},
        LifecycleStage.DECLINING: _("holdings changed by %(trend)s over %(window)s days, or no transaction for "
                                    "%(idle)s days (limits %(limit)s and %(idle_limit)s days)") % {
            "trend": _percent(row.holdings_trend), "window": settings.get("trend_days"), "idle": row.recency_days,
            "limit": _percent(settings.get("declining_trend")), "idle_limit": settings.get("declining_idle_days")},
        LifecycleStage.MATURE: _("holdings %(value)s (at least %(limit)s)") % {
            "value": f"{row.holdings_value or 0:,.2f}", "limit": settings.get("mature_value")},
        LifecycleStage.GROWTH: _("active, holdings %(value)s, no other rule applies") % {
            "value": f"{row.holdings_value or 0:,.2f}"},
    }
    text = _("%(stage)s: %(reason)s.") % {"stage": stage.label, "reason": reasons[stage]}
    return _score("lifecycle", _("Lifecycle stage"), row.lifecycle, text, {
        "tenure_days": row.tenure_days, "recency_days": row.recency_days, "holdings_value": row.holdings_value,
        "holdings_trend": row.holdings_trend})


def _percent(value) -> str:
    return "—" if value is None else f"{float(value) * 100:+.0f} %"


def _intent(row, run, settings, customer) -> dict:
    weights = settings.get("intent_weights", {})
    start = window_start(run.as_of, settings.get("intent_window_days", 30))
    counts = dict(Event.objects.filter(customer=customer, occurred_on__gte=start, occurred_on__lte=run.as_of,
                                       type__in=list(weights)).values_list("type").annotate(n=Count("id")))
    parts = [f"{weights[kind]:g} × {kind} {count}" for kind, count in sorted(counts.items())]
    text = _("Intent %(score)g (%(group)s) = %(parts)s over %(days)s days.") % {
        "score": row.intent_score, "group": IntentGroup(row.intent_group).label,
        "parts": " + ".join(parts) or "0", "days": settings.get("intent_window_days", 30)}
    return _score("intent", _("Purchase intent"), {"score": row.intent_score, "group": row.intent_group}, text,
                  {"events": counts, "weights": weights})


def _risk(row, run, settings, customer) -> dict:
    if row.risk_preference is None:
        return _score("risk_preference", _("Risk preference"), None, _("No holdings."), {})
    coefficients = settings.get("risk_coefficients", {})
    latest = Holding.objects.filter(customer=customer, as_of__lte=run.as_of).order_by("-as_of").values_list(
        "as_of", flat=True).first()
    by_type = dict(Holding.objects.filter(customer=customer, as_of=latest, amount__gt=0)
                   .values_list("product__type").annotate(total=Sum("amount")))
    total = float(sum(by_type.values())) or 1.0
    shares = {kind: float(amount) / total for kind, amount in by_type.items()}
    raw = sum(share * float(coefficients.get(kind, 0.5)) for kind, share in shares.items())
    parts = ", ".join(f"{share * 100:.0f} % {kind} ({float(coefficients.get(kind, 0.5)):g})"
                      for kind, share in sorted(shares.items(), key=lambda item: -item[1]))
    text = _("Risk preference %(value).2f: %(parts)s → %(raw).2f; asset size %(adjust)+.2f.") % {
        "value": row.risk_preference, "parts": parts, "raw": raw, "adjust": row.risk_preference - raw}
    return _score("risk_preference", _("Risk preference"), round(row.risk_preference, 4), text,
                  {"shares": {kind: round(share, 4) for kind, share in shares.items()}, "coefficients": coefficients,
                   "size_adjustment": round(row.risk_preference - raw, 4)})


def _consultation(row) -> dict:
    reasons = {Consultation.ASSET_MANAGED: _("has an advisory contract"),
               Consultation.CONSULTATION_RELIANT: _("holds or bought advisory products, or consulted recently"),
               Consultation.SELF_DIRECTED: _("no advisory contract, advisory product or consultation")}
    choice = Consultation(row.consultation)
    return _score("consultation", _("Consultation dependency"), row.consultation,
                  _("%(label)s: %(reason)s.") % {"label": choice.label, "reason": reasons[choice]}, {})


def customer_scores_section(customer, user) -> dict | None:
    found = customer_scores(customer)
    if found is None:
        return None
    return {"template": "scores/_customer_scores.html", **found}


# --- distributions (the scores page, segment profiles) ------------------------------------------------

HISTOGRAM_BINS = 10
LABELS = {"lifecycle": LifecycleStage, "intent_group": IntentGroup, "consultation": Consultation}


def distributions(summary: dict) -> list[dict]:
    """Each score's counts as rows (label, customers, share of the largest for the bar)."""
    result = []
    titles = {"lifecycle": _("Lifecycle stage"), "intent_group": _("Purchase intent"),
              "consultation": _("Consultation dependency"), "rfm_r": _("RFM: R"), "rfm_f": _("RFM: F"),
              "rfm_m": _("RFM: M"), "churn_risk": _("Churn risk"), "risk_preference": _("Risk preference")}
    for name, title in titles.items():
        found = summary.get(name)
        if not found:
            continue
        if "bins" in found:
            bins = found["bins"]
            rows = [(f"{bins[step]:.1f}–{bins[step + 1]:.1f}", count) for step, count in enumerate(found["counts"])]
        else:
            choices = LABELS.get(name)
            order = list(choices.values) if choices else sorted(found, key=float)
            rows = [(str(choices(key).label) if choices else key, found.get(key, 0)) for key in order if key in found]
        largest = max((count for _label, count in rows), default=0) or 1
        result.append({"name": name, "title": title,
                       "rows": [{"label": label, "customers": count, "width": round(100 * count / largest, 1)}
                                for label, count in rows]})
    return result


def distributions_of(customers, run: ScoreRun) -> list[dict]:
    """distributions() for some customers (a filtered customer list), counted in SQL over the run's rows."""
    rows = CustomerScore.objects.filter(run=run, customer__in=customers.order_by().values("pk"))
    summary = {}
    for name in ("lifecycle", "intent_group", "consultation", "rfm_r", "rfm_f", "rfm_m"):
        summary[name] = {str(key): count for key, count in rows.filter(**{f"{name}__isnull": False})
                         .values_list(name).annotate(n=Count("pk")).order_by()}
    for name in ("churn_risk", "risk_preference"):
        counts = [0] * HISTOGRAM_BINS
        banded = rows.filter(**{f"{name}__isnull": False}).annotate(
            band=Least(Cast(F(name) * HISTOGRAM_BINS, IntegerField()), HISTOGRAM_BINS - 1))
        for band, count in banded.values_list("band").annotate(n=Count("pk")).order_by():
            counts[int(band)] = count
        summary[name] = {"bins": [round(step / HISTOGRAM_BINS, 2) for step in range(HISTOGRAM_BINS + 1)],
                         "counts": counts}
    return distributions(summary)


def lifecycle_week_over_week(*, now=None) -> dict | None:
    """Per lifecycle stage: customers now (published run), a week earlier (the last run published by
    then), the change, and the moves into the stage over the runs of the last 7 days."""
    now = now or timezone.now()
    current = published_run()
    if current is None:
        return None
    earlier = (ScoreRun.objects.filter(finished_at__lte=now - timedelta(days=7))
               .exclude(status__in=[RunStatus.RUNNING, RunStatus.FAILED]).order_by("-finished_at", "-id").first())
    moves = lifecycle_moves_since(7, now=now)
    before = earlier.summary.get("lifecycle", {}) if earlier else {}
    rows = []
    for stage in LifecycleStage:
        count = current.summary.get("lifecycle", {}).get(stage.value, 0)
        previous = before.get(stage.value) if earlier else None
        rows.append({"stage": stage.value, "label": stage.label, "customers": count, "week_ago": previous,
                     "change": None if previous is None else count - previous,
                     "moved_in": moves_into(stage.value, moves)})
    return {"run": current, "earlier": earlier, "rows": rows}
