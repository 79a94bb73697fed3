"""A marketing manager types an expression and watches the audience size change, then saves it."""

import pytest

from segments.models import Segment
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_count_updates_while_typing_and_the_segment_saves(live_server, page, screenshot):
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    vip, wechat = TagFactory(slug="vip"), TagFactory(slug="wechat")
    CustomerFactory(external_id="A", tags=[vip, wechat])
    CustomerFactory(external_id="B", tags=[vip])
    CustomerFactory(external_id="C", tags=[wechat])

    page.goto(f"{live_server.url}/login/?next=/segments/builder/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "browser-pw-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/segments/builder/")

    page.locator("#id_text").press_sequentially("vip", delay=20)
    page.locator("[data-audience-count]", has_text="2").wait_for()
    page.locator("#id_text").press_sequentially(" AND wechat", delay=20)
    page.locator("[data-audience-count]", has_text="1").wait_for()
    screenshot("03-builder-count")

    page.locator("#id_text").press_sequentially(" AND", delay=20)
    page.locator("[role=alert]", has_text="ends too early").wait_for()

    page.fill("#id_text", "vip")
    page.locator("[data-audience-count]", has_text="2").wait_for()
    assert page.locator("button", has_text="ALL of").count() == 0  # a single tag is no group
    page.fill("#id_name", "VIP customers")
    page.click("text=Save segment")
    page.wait_for_url("**/segments/*/")
    screenshot("04-segment-detail")
    assert Segment.objects.get().text == "vip"


def test_tags_are_suggested_while_typing_and_a_typo_says_what_was_meant(live_server, page, screenshot):
    """Issue 14: a tag picker in the expression box, and "did you mean" for an unknown tag."""
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    vip, wechat = TagFactory(slug="vip"), TagFactory(slug="wechat_follower")
    TagFactory(slug="housing-yes")
    CustomerFactory(external_id="A", tags=[vip, wechat])
    CustomerFactory(external_id="B", tags=[vip])
    page.goto(f"{live_server.url}/login/?next=/segments/builder/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "browser-pw-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/segments/builder/")
    editor = page.locator("#id_text")
    editor.press_sequentially("vip AND we", delay=20)
    page.locator("[data-tag-suggestions] li", has_text="wechat_follower").wait_for()
    screenshot("05-builder-suggestions")
    editor.press("Tab")
    assert editor.input_value() == "vip AND wechat_follower"
    page.locator("[data-audience-count]", has_text="1").wait_for()
    editor.fill("vip AND wechat_folower")
    page.locator("[role=alert]", has_text="Did you mean wechat_follower?").wait_for()
