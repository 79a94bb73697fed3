"""A marketing manager plans a recurring template from the week grid in a real browser, sees it on its day,
and reads its page; the form refuses a window in the quiet hours without saving."""

import pytest
from django.test import override_settings

from campaigns.models import CampaignTemplate
from tests.browser.signing_in import sign_in
from tests.factories import TagFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@override_settings(CONTACT_QUIET_HOURS="21:00-08:00")
def test_a_template_is_planned_from_the_week_grid(live_server, page, screenshot):
    TagFactory(slug="vip")
    UserFactory(username="mia", password="browser-pw-1", role="marketing_manager")
    sign_in(page, live_server, "mia", "browser-pw-1")
    page.goto(f"{live_server.url}/campaigns/calendar/")
    page.locator("[data-week-grid]").wait_for()
    page.locator('[data-weekday="3"] a', has_text="Plan a template").click()
    page.locator("[data-template-form]").wait_for()
    assert page.locator("#id_weekday").input_value() == "3"
    page.fill("#id_name", "Dormant wake-up")
    page.fill("#id_plan", "Wake-up gift")
    page.fill("#id_window_start", "07:30")
    page.fill("#id_window_end", "09:00")
    page.fill("#id_text", "vip")
    page.select_option("#id_channel", "wechat")
    page.click("[data-template-form] button[type=submit]")
    page.locator(".errorlist").first.wait_for()
    assert "quiet hours" in page.content() and not CampaignTemplate.objects.exists()
    page.fill("#id_window_start", "14:00")
    page.fill("#id_window_end", "16:00")
    page.click("[data-template-form] button[type=submit]")
    page.locator("[data-waves]").wait_for()
    template = CampaignTemplate.objects.get()
    assert (template.weekday, template.channel, template.text) == (3, "wechat", "vip")
    page.goto(f"{live_server.url}/campaigns/calendar/")
    card = page.locator(f'[data-weekday="3"] [data-template="{template.pk}"]')
    assert "14:00–16:00" in card.inner_text() and "Dormant wake-up" in card.inner_text()
    screenshot("40-calendar")
