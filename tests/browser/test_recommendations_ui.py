"""A marketing manager turns an association rule into an audience and a draft campaign and builds a
lookalike; an account manager reads a customer's next best products beside the call script — in a real
browser, against a live server."""

import pytest

from core.models import Job
from segments.models import Segment
from segments.services import save_segment
from tests.browser.signing_in import sign_in
from tests.factories import CustomerFactory, ProductFactory, TagFactory, TaskFactory, UserFactory
from tests.recommendations.data import book, hold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rule_becomes_an_audience_and_a_draft_campaign(live_server, page, screenshot):
    for code, level in (("DEP-1", 1), ("BOND-1", 2), ("FUND-A", 3)):
        ProductFactory(code=code, risk_level=level)
    vip = TagFactory(slug="vip")
    book([(30, ("DEP-1", "BOND-1")), (12, ("DEP-1",)), (20, ("FUND-A",))], risk_level=3)
    for number, customer in enumerate(book([(25, ("FUND-A", "BOND-1"))], risk_level=3)):
        if number < 20:
            customer.tag_links.create(tag=vip)
    mia = UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    sign_in(page, live_server, "mia", "browser-pw-1")

    page.goto(f"{live_server.url}/recommendations/rules/")
    page.fill("#id_min_support", "0.05")
    page.fill("#id_min_confidence", "0.5")
    page.click("[data-rule-form] button[type=submit]")
    row = page.locator("[data-rule]", has=page.locator("td:nth-child(2) code", has_text="BOND-1")).filter(
        has=page.locator("td:nth-child(1) code", has_text="DEP-1")).first
    row.wait_for()
    lacking = row.locator("td:nth-child(7)").inner_text()
    screenshot("40-association-rules")
    row.locator("[data-audience]").click()
    page.wait_for_url("**/segments/builder/**")
    assert page.locator("#id_text").input_value() == "holds(DEP-1) AND NOT holds(BOND-1)"
    assert page.locator("[data-audience-count]").inner_text() == lacking == "12"

    page.go_back()
    row.locator("[data-draft-campaign]").click()
    page.wait_for_url("**/campaigns/new/**")
    assert page.locator("#id_text").input_value() == "holds(DEP-1) AND NOT holds(BOND-1)"
    assert page.eval_on_selector("#id_products", "s => [...s.selectedOptions].map(o => o.textContent)") == [
        "BOND-1 · Product BOND-1"]
    screenshot("41-draft-campaign-from-rule")

    save_segment(name="VIP", text="vip", by=mia)
    page.goto(f"{live_server.url}/recommendations/lookalike/")
    page.select_option("#id_seed_segment", label="VIP")
    page.fill("#id_size", "10")
    page.click("[data-lookalike-form] button[type=submit]")
    page.locator("[data-lookalike-done]").wait_for()  # eager job in tests; a worker in production
    page.click("[data-lookalike-done] a")
    page.locator("[data-lookalike-origin]").wait_for()
    segment = Segment.objects.get(pk=Job.objects.get(kind="lookalike").result["segment"])
    assert segment.snapshot_count == 10
    screenshot("42-lookalike-segment")


def test_the_account_manager_sees_next_best_beside_the_script(live_server, page, screenshot):
    for code, level in (("DEP-1", 1), ("FUND-A", 3), ("STOCK-X", 5)):
        ProductFactory(code=code, risk_level=level)
    book([(20, ("DEP-1", "FUND-A")), (20, ("DEP-1", "STOCK-X"))], risk_level=5)
    alice = UserFactory(username="alice", password="browser-pw-2", role="account_manager")
    customer = CustomerFactory(owner=alice, risk_level=3, name="Lin Wei")
    hold(customer, "DEP-1")
    TaskFactory(customer=customer, assignee=alice, campaign__script="Offer the fund review.")
    sign_in(page, live_server, "alice", "browser-pw-2")
    page.goto(f"{live_server.url}/campaigns/my-tasks/work/")
    panel = page.locator("[data-next-best]")
    panel.wait_for()
    assert panel.locator("[data-product]").first.get_attribute("data-product") == "FUND-A"
    assert "STOCK-X" not in panel.inner_text()  # R5 is not suitable for a level-3 customer
    assert "Customers holding DEP-1 also hold FUND-A: 49% of 41" in panel.inner_text()
    screenshot("43-next-best-in-work-view")
