"""A marketing manager reads the scores, previews and saves an auto-tag rule, and an account manager
reads why a customer scores as they do — in a real browser, against a live server and real jobs."""

import pytest
from django.utils import timezone

from autotags.models import TagRule
from customers.models import CustomerTag
from scores.models import CustomerScore
from scores.services import compute_scores
from tests.browser.signing_in import sign_in
from tests.factories import UserFactory
from tests.segments.activity_data import make_activity
from tests.segments.conftest import make_customers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scores_rules_and_the_customer_page(live_server, page, screenshot):
    records = make_customers(seed=8, size=120)
    make_activity([record["id"] for record in records], seed=8, today=timezone.localdate())
    run = compute_scores()
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    sign_in(page, live_server, "mia", "browser-pw-1")

    page.goto(f"{live_server.url}/scores/")
    page.locator("[data-churn-model]").wait_for()
    assert f"#{run.pk}" in page.locator("[data-run]").inner_text()
    widths = page.eval_on_selector_all("[data-distributions] .fill", "bars => bars.map(bar => bar.style.width)")
    assert widths and any(width not in ("", "0%") for width in widths)  # bars sized despite the CSP
    screenshot("30-scores")

    page.goto(f"{live_server.url}/customers/")
    page.locator("[data-list-distribution]").wait_for()  # loaded after the list by htmx
    assert "Lifecycle" in page.locator("[data-list-distribution]").inner_text()

    page.goto(f"{live_server.url}/auto-tags/new/")
    page.fill("#id_name", "Lapsing")
    page.fill("#id_slug", "lapsing")
    page.fill("#id_text", "recency_days > 60")
    page.click("button[name=preview]")
    page.locator("[data-preview]").wait_for()
    expected = CustomerScore.objects.filter(run=run, recency_days__gt=60).count()
    assert page.locator("[data-entering]").inner_text().replace(",", "") == str(expected)
    assert not TagRule.objects.exists()
    screenshot("31-rule-preview")
    page.click("button[name=save]")
    page.locator("[data-applications]").wait_for()
    assert CustomerTag.objects.filter(tag__slug="lapsing").count() == expected
    screenshot("32-rule-applied")

    owned = CustomerScore.objects.filter(run=run, customer__owner__username="alice",
                                         rfm_r__isnull=False).select_related("customer").first()
    alice = owned.customer.owner
    alice.set_password("browser-pw-2")
    alice.save()
    page.context.clear_cookies()  # another person at another desk
    sign_in(page, live_server, "alice", "browser-pw-2")
    page.goto(f"{live_server.url}/customers/{owned.customer_id}/")
    section = page.locator("[data-scores]")
    section.wait_for()
    assert f"RFM {owned.rfm_cell}" in section.inner_text()
    screenshot("33-customer-scores")
