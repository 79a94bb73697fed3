"""A marketing manager signs in, filters customers by tag and tags one inline, in a real browser."""

import pytest

from customers.models import CustomerTag
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_signs_in_filters_by_tag_and_tags_a_customer(live_server, page, screenshot):
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    vip = TagFactory(slug="vip")
    TagFactory(slug="wechat")
    CustomerFactory(external_id="VIP-1", name="Wang Wei", tags=[vip])
    CustomerFactory(external_id="STD-1", name="Li Na")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "browser-pw-1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")  # the marketing manager's home (issue 14)
    page.locator("[data-attention]").wait_for()
    screenshot("00-manager-home")
    page.goto(f"{live_server.url}/customers/")
    screenshot("01-customer-list")
    assert page.locator("table.grid").inner_text().count("VIP-1") == 1

    page.goto(f"{live_server.url}/customers/?tag=vip")
    table = page.locator("#customer-table").inner_text()
    assert "VIP-1" in table and "STD-1" not in table

    page.click("text=VIP-1")
    page.fill("#add-tag", "wechat")
    page.keyboard.press("Enter")
    page.locator("#customer-tags .chip", has_text="wechat").wait_for()
    screenshot("02-customer-tagged")
    assert CustomerTag.objects.filter(customer__external_id="VIP-1", tag__slug="wechat").exists()


def test_a_bulk_assignment_is_confirmed_with_its_count_recorded_and_undone(live_server, page, screenshot):
    """Issue 14: "all matching the filter" with no filter moved every customer in one click."""
    from customers.models import Customer
    from tests.factories import BranchFactory

    shenzhen = BranchFactory(code="SZ01")
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    alice = UserFactory(username="alice", role="account_manager", branch=shenzhen)
    UserFactory(username="bob", first_name="Bob", last_name="Li", role="account_manager", branch=shenzhen)
    for number in range(6):
        CustomerFactory(external_id=f"A-{number}", owner=alice, branch=shenzhen)
    page.goto(f"{live_server.url}/login/?next=/customers/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "browser-pw-1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/customers/")
    form = page.locator("[data-bulk-form]")
    form.locator("select[name=action]").select_option("assign_owner")
    form.locator("select[name=owner]").select_option("bob")
    form.locator("input[name=all_matching]").check()
    form.locator("button[type=submit]").click()
    page.locator("[data-bulk-confirm]").wait_for()
    screenshot("03-bulk-confirm")
    assert page.locator("[data-bulk-summary]").inner_text() == "6 customers from 1 manager to Bob Li"
    assert Customer.objects.filter(owner=alice).count() == 6  # nothing moved yet
    page.click("[data-bulk-apply]")
    page.wait_for_url(f"{live_server.url}/customers/?")
    assert Customer.objects.filter(owner__username="bob").count() == 6
    page.goto(f"{live_server.url}/customers/bulk/changes/")
    screenshot("04-bulk-changes")
    page.click("[data-undo]")
    page.locator("text=Undone: 6 customers are as before.").wait_for()
    assert Customer.objects.filter(owner=alice).count() == 6
