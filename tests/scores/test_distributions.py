"""Score distributions where managers read them: the segment profile, the customer list, the dashboard."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from scores.models import CustomerScore, ScoreRun
from scores.services import compute_scores
from segments import engine
from segments.compiler import resolve
from segments.services import save_segment
from tests.factories import UserFactory
from tests.scores.test_compute import scored  # noqa: F401 (a fixture)


@pytest.fixture
def manager(db):
    return UserFactory(role="marketing_manager")


def test_segment_profile_counts_scores_of_the_audience(scored, manager, client):  # noqa: F811
    _today, _history, run, rows = scored
    engine.reset()
    segment = save_segment(name="Some", text="assets >= 100000", by=manager)
    members = set(engine.evaluate(resolve(segment.expression)).ids())
    client.force_login(manager)
    profile = client.get(f"/api/v1/segments/{segment.pk}/profile/").json()
    expected = Counter(rows[pk].lifecycle for pk in members)
    assert {row["key"]: row["audience"] for row in profile["lifecycle"]} == {k: v for k, v in expected.items() if v}
    assert {row["key"]: row["all"] for row in profile["intent_group"]} == dict(Counter(r.intent_group for r in rows.values()))
    bands = Counter(min(int(r.churn_risk * 5), 4) for r in rows.values() if r.churn_risk is not None)
    labels = ["0.0–0.2", "0.2–0.4", "0.4–0.6", "0.6–0.8", "0.8–1.0"]
    assert {row["key"]: row["all"] for row in profile["churn_risk"]} == {labels[b]: n for b, n in bands.items()}
    assert "Churn risk" in client.get(f"/segments/{segment.pk}/").content.decode()


def test_customer_list_panel_counts_the_filtered_customers(scored, manager, client):  # noqa: F811
    _today, _history, run, rows = scored
    client.force_login(manager)
    page = client.get("/customers/?assets_min=100000").content.decode()
    assert "data-list-panel" in page and "/scores/customers/distribution/?assets_min=100000" in page
    panel = client.get("/scores/customers/distribution/?assets_min=100000").content.decode()
    listed = CustomerScore.objects.filter(run=run, customer__assets__gte=100000)
    for stage, count in Counter(listed.values_list("lifecycle", flat=True)).items():
        assert f">{count}<" in panel, stage
    owner = CustomerScore.objects.filter(run=run, customer__owner__isnull=False).first().customer.owner
    client.force_login(owner)
    own = client.get("/scores/customers/distribution/").content.decode()
    total_own = CustomerScore.objects.filter(run=run, customer__owner=owner).count()
    assert "data-list-distribution" in own and total_own == sum(
        Counter(CustomerScore.objects.filter(run=run, customer__owner=owner).values_list("intent_group", flat=True)).values())


def test_dashboard_shows_lifecycle_change_week_over_week(scored, manager, client):  # noqa: F811
    today, _history, first, rows = scored
    ScoreRun.objects.filter(pk=first.pk).update(finished_at=timezone.now() - timedelta(days=8))
    second = compute_scores(as_of=today + timedelta(days=90))
    client.force_login(manager)
    page = client.get("/campaigns/reports/").content.decode()
    assert "data-lifecycle-week" in page
    into_declining = sum(count for move, count in second.summary["lifecycle_moves"].items()
                         if move.endswith("→declining"))
    before = sum(1 for row in rows.values() if row.lifecycle == "declining")
    now = CustomerScore.objects.filter(run=second, lifecycle="declining").count()
    section = page.split('data-stage="declining"')[1].split("</tr>")[0]
    assert f">{now}<" in section and f">{before}<" in section and f">{into_declining}<" in section


def test_rfm_levels_are_counted_in_order_everywhere(scored, manager, client):  # noqa: F811
    _today, _history, run, rows = scored
    expected = Counter(row.rfm_r for row in rows.values() if row.rfm_r is not None)
    assert run.summary["rfm_r"] == {str(level): expected[level] for level in sorted(expected)}
    engine.reset()
    segment = save_segment(name="All", text="assets >= 0", by=manager)
    client.force_login(manager)
    profile = client.get(f"/api/v1/segments/{segment.pk}/profile/").json()
    assert [(row["key"], row["all"]) for row in profile["rfm_r"]] == sorted(expected.items())
    panel = client.get("/scores/customers/distribution/").content.decode()
    assert "RFM: R" in panel
