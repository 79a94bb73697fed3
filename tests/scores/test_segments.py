"""Scores as segment conditions: the bitmap engine against the naive SQL and the stored rows, and
fresh as soon as a run is published (no rebuild of the rest of the index)."""

from datetime import timedelta

import pytest

from scores.models import CustomerScore
from scores.services import compute_scores
from segments import engine
from segments.compiler import checked_expression, resolve
from segments.expression import ExpressionError, parse, to_text
from segments.naive import naive_ids
from tests.scores.test_compute import scored  # noqa: F401 (a fixture)

EXPRESSIONS = [
    ("churn_risk >= 0.7", lambda row: row and row.churn_risk is not None and row.churn_risk >= 0.7),
    ("churn_risk < 0.2", lambda row: row and row.churn_risk is not None and row.churn_risk < 0.2),
    ("churn_risk is null", lambda row: row is None or row.churn_risk is None),
    ("p_alive between 0.3 and 0.9", lambda row: row and row.p_alive is not None and 0.3 <= row.p_alive <= 0.9),
    ("rfm_r >= 4", lambda row: row and row.rfm_r is not None and row.rfm_r >= 4),
    ("rfm_f = 1", lambda row: row and row.rfm_f == 1),
    ("rfm_m != 5", lambda row: row and row.rfm_m is not None and row.rfm_m != 5),
    ("intent_group = top", lambda row: row and row.intent_group == "top"),
    ("intent_group != bottom", lambda row: row and row.intent_group != "bottom"),
    ("intent_score > 3", lambda row: row and row.intent_score > 3),
    ("lifecycle = declining", lambda row: row and row.lifecycle == "declining"),
    ("lifecycle in (new, growth)", lambda row: row and row.lifecycle in ("new", "growth")),
    ("risk_preference >= 0.5", lambda row: row and row.risk_preference is not None and row.risk_preference >= 0.5),
    ("consultation = self_directed", lambda row: row and row.consultation == "self_directed"),
    ("NOT lifecycle = potential AND rfm_r <= 2",
     lambda row: row and row.lifecycle != "potential" and row.rfm_r is not None and row.rfm_r <= 2),
]


@pytest.mark.parametrize(("text", "plain"), EXPRESSIONS, ids=[text for text, _plain in EXPRESSIONS])
def test_score_conditions_agree_three_ways(scored, text, plain):  # noqa: F811
    _today, history, run, rows = scored
    engine.reset()
    resolved = resolve(checked_expression(text=text))
    got = set(engine.evaluate(resolved).ids())
    expected = {pk for pk in history if plain(rows.get(pk))}
    assert got == expected
    assert naive_ids(resolved) == expected
    assert parse(to_text(parse(text))) == parse(text)


@pytest.mark.django_db(transaction=True)  # committed: on PostgreSQL an index of uncommitted rows is never kept
def test_a_published_run_shows_in_counts_at_once(scored):  # noqa: F811
    today, _history, _run, _rows = scored
    engine.reset()
    resolved = _resolved("lifecycle = churned")
    before = engine.evaluate(resolved).count
    index = engine.current_index()
    later = compute_scores(as_of=today + timedelta(days=200))
    after = engine.evaluate(resolved)
    expected = CustomerScore.objects.filter(run=later, lifecycle="churned").count()
    assert after.count == expected and expected != before
    fresh = engine.current_index()
    assert fresh.scores.run_id == later.pk and fresh.built_at == index.built_at  # tags and activity not rebuilt


def test_a_score_value_out_of_range_points_at_it():
    with pytest.raises(ExpressionError) as error:
        parse("churn_risk >= 2")
    assert error.value.position is not None
    with pytest.raises(ExpressionError):
        parse("intent_group = hot")


def _resolved(text):
    return resolve(checked_expression(text=text))
