"""The scores API (DESIGN.md contract), the customer page section and the scores page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from activity.models import Holding, Transaction
from core.models import Job
from scores.models import CustomerScore, ScoreSettings
from scores.services import compute_scores
from scores.suggest import lifecycle_suggestion
from tests.factories import CustomerFactory, ProductFactory, UserFactory
from tests.scores.test_compute import scored  # noqa: F401 (a fixture)


@pytest.fixture
def manager(db):
    return UserFactory(role="marketing_manager")


def test_churn_model_api_answers_the_published_fit(scored, client):  # noqa: F811
    _today, _history, run, _rows = scored
    client.force_login(UserFactory(role="account_manager"))
    body = client.get("/api/v1/scores/churn/model/").json()
    assert set(body) >= {"r", "alpha", "a", "b", "log_likelihood", "customers", "as_of", "fitted_at"}
    assert body["r"] == run.churn_model["r"] and body["as_of"] == run.as_of.isoformat()


def test_churn_model_api_before_any_run_is_404(db, client):
    client.force_login(UserFactory(role="account_manager"))
    assert client.get("/api/v1/scores/churn/model/").status_code == 404


def test_customer_scores_api_gives_each_score_with_inputs_and_respects_ownership(scored, client):  # noqa: F811
    _today, history, run, rows = scored
    owned = CustomerScore.objects.filter(run=run, customer__owner__isnull=False, rfm_r__isnull=False,
                                         p_alive__isnull=False).select_related("customer__owner").first()
    customer = owned.customer
    client.force_login(customer.owner)
    body = client.get(f"/api/v1/customers/{customer.pk}/scores/").json()
    names = [score["name"] for score in body["scores"]]
    assert names == ["rfm", "churn_risk", "lifecycle", "intent", "risk_preference", "consultation"]
    by_name = {score["name"]: score for score in body["scores"]}
    assert by_name["rfm"]["value"]["r"] == owned.rfm_r and by_name["rfm"]["inputs"]["recency_days"] == owned.recency_days
    assert by_name["churn_risk"]["inputs"]["p_alive"] == pytest.approx(owned.p_alive, abs=1e-4)
    assert f"P(alive) {owned.p_alive:.2f}" in by_name["churn_risk"]["explanation"]
    assert by_name["lifecycle"]["value"] == owned.lifecycle
    assert body["run"] == run.pk
    other = CustomerScore.objects.filter(run=run).exclude(customer__owner=customer.owner).first().customer
    assert client.get(f"/api/v1/customers/{other.pk}/scores/").status_code == 404


def test_the_customer_page_explains_every_score(scored, manager, client):  # noqa: F811
    _today, _history, run, _rows = scored
    row = CustomerScore.objects.filter(run=run, p_alive__isnull=False, risk_preference__isnull=False).first()
    client.force_login(manager)
    page = client.get(f"/customers/{row.customer_id}/").content.decode()
    assert "data-scores" in page and f"P(alive) {row.p_alive:.2f}" in page
    assert 'data-score="risk_preference"' in page and 'data-score="intent"' in page


def test_the_scores_page_shows_the_run_saves_settings_and_accepts_the_suggestion(scored, manager, client):  # noqa: F811
    client.force_login(manager)
    page = client.get("/scores/").content.decode()
    assert "data-churn-model" in page and "data-distributions" in page and "data-suggestion" in page
    settings = ScoreSettings.objects.get()
    form = {"rfm_window_days": 14, "intent_window_days": 30, "intent_weights": "login = 2\nproduct_view = 4",
            "risk_coefficients": "stock = 0.9\ndeposit = 0", "size_weight": 0.1, "churned_after_days": 200,
            "new_within_days": 60, "declining_trend": -0.25, "declining_idle_days": 60, "trend_days": 90,
            "mature_value": 50_000, "consultation_window_days": 180, "purchase_kinds": "buy, trade",
            "consultation_events": "consultation", "advisory_contract_events": "advisory_contract"}
    assert client.post("/scores/", form).status_code == 302
    settings.refresh_from_db()
    assert settings.rfm_window_days == 14 and settings.intent_weights == {"login": 2.0, "product_view": 4.0}
    bad = client.post("/scores/", {**form, "intent_weights": "login = lots"})
    assert bad.status_code == 200 and "Line 1" in bad.content.decode()
    bad = client.post("/scores/", {**form, "purchase_kinds": "buy, gift"})
    assert bad.status_code == 200 and "Kinds are some of" in bad.content.decode()
    settings.refresh_from_db()
    assert settings.intent_weights == {"login": 2.0, "product_view": 4.0}


def test_the_k_means_suggestion_separates_clear_clusters_and_is_accepted_on_request(db, manager, client):
    today = timezone.localdate()
    product = ProductFactory(code="F1", type="fund")
    groups = [(1_000, 1.0), (1_000_000, 1.0), (10_000, 0.5), (100_000, 1.3)]  # value now, now / 120 days ago
    holdings, transactions = [], []
    for number in range(200):
        value, ratio = groups[number % 4]
        customer = CustomerFactory()
        value *= 1 + (number % 7) / 100
        holdings += [Holding(customer=customer, product=product, as_of=today, amount=Decimal(round(value, 2))),
                     Holding(customer=customer, product=product, as_of=today - timedelta(days=120),
                             amount=Decimal(round(value / ratio, 2)))]
        transactions.append(Transaction(external_id=f"T{number}", customer=customer, product=product, kind="buy",
                                        amount=Decimal(10), occurred_at=timezone.now(), occurred_on=today))
    Holding.objects.bulk_create(holdings)
    Transaction.objects.bulk_create(transactions)
    compute_scores(as_of=today)
    suggestion = lifecycle_suggestion()
    assert len(suggestion["centres"]) == 4 and sum(c["customers"] for c in suggestion["centres"]) == 200
    assert 100_000 < suggestion["mature_value"] < 1_000_000  # between the two richest clusters
    assert -1.0 < suggestion["declining_trend"] < 0  # between the falling cluster and the flat ones
    client.force_login(manager)
    page = client.get("/scores/").content.decode()
    assert "Accept these thresholds" in page
    settings = ScoreSettings.objects.get()
    assert float(settings.mature_value) == 100_000  # nothing changes until the manager accepts
    assert client.post("/scores/suggestion/accept/").status_code == 302
    settings.refresh_from_db()
    assert float(settings.mature_value) == pytest.approx(suggestion["mature_value"], abs=0.01)
    assert settings.declining_trend == pytest.approx(suggestion["declining_trend"])


def test_recompute_now_runs_a_tracked_job(scored, manager, client, django_capture_on_commit_callbacks):  # noqa: F811
    _today, _history, run, _rows = scored
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/scores/recompute/").status_code == 302
    job = Job.objects.get(kind="scores")
    assert job.state == Job.State.SUCCEEDED and job.result["run"] > run.pk


def test_account_managers_do_not_reach_the_scores_page(db, client):
    client.force_login(UserFactory(role="account_manager"))
    assert client.get("/scores/").status_code == 403
    assert client.post("/scores/recompute/").status_code == 403


def test_explanations_say_one_transaction_and_today_in_english_and_chinese(db, client, manager):
    product = ProductFactory(code="FUND-X", type="fund")
    customer = CustomerFactory()
    now = timezone.now()
    Transaction.objects.create(external_id="t1", customer=customer, product=product, kind="buy", amount=Decimal(1000),
                               occurred_at=now, occurred_on=timezone.localdate())
    compute_scores(as_of=timezone.localdate())
    client.force_login(manager)
    rfm = client.get(f"/api/v1/customers/{customer.pk}/scores/").json()["scores"][0]["explanation"]
    assert "last transaction today" in rfm and "1 transaction in 30 days" in rfm, rfm
    chinese = client.get(f"/api/v1/customers/{customer.pk}/scores/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "最近交易" in chinese["scores"][0]["explanation"] and "今天" in chinese["scores"][0]["explanation"]
