"""The template form and page through the browser's requests: saved, refused with field errors, approved;
and a key-event rule on a threshold saved from its form."""

import pytest
from django.test import override_settings

from campaigns.models import CampaignTemplate, TriggerRule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {"name": "Dormant wake-up", "plan": "Wake-up gift", "weekday": "3", "window_start": "14:00",
        "window_end": "16:00", "text": "vip", "channel": "wechat", "priority": "2", "holdout_pct": "10",
        "strategy": "owner", "frequency_cap_days": "0", "purpose": "marketing", "attribution_days": "7",
        "cost_fixed": "0", "cost_per_contact": "1.50", "active": "on"}


def test_a_template_is_planned_from_the_calendar_and_saved(web_as, mia, vip):
    client = web_as(mia)
    page = client.get("/campaigns/templates/new/?weekday=3").content.decode()
    assert '<option value="3" selected>' in page
    response = client.post("/campaigns/templates/new/", FORM)
    template = CampaignTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/templates/{template.pk}/"
    assert (template.weekday, template.channel, template.owner, template.expression) == (3, "wechat", mia, {"tag": "vip"})
    page = client.get(f"/campaigns/templates/{template.pk}/").content.decode()
    assert "No wave yet" in page
    assert "Dormant wake-up" in client.get("/campaigns/calendar/").content.decode()


def test_a_bad_template_is_refused_with_field_errors_and_nothing_saved(web_as, mia, vip):
    client = web_as(mia)
    response = client.post("/campaigns/templates/new/", FORM | {"window_end": "13:00", "text": "vipp"})
    page = response.content.decode()
    assert response.status_code == 200 and "Unknown tag: vipp" in page
    assert not CampaignTemplate.objects.exists()
    response = client.post("/campaigns/templates/new/", FORM | {"window_end": "13:00"})
    assert "ends after it starts" in response.content.decode() and not CampaignTemplate.objects.exists()


@override_settings(CAMPAIGN_APPROVAL_REQUIRED=True)
def test_the_checker_approves_a_template_from_its_page(web_as, mia, vip):
    web_as(mia).post("/campaigns/templates/new/", FORM)
    template = CampaignTemplate.objects.get()
    client = web_as(mia)
    assert "Awaiting a second marketing manager" in client.get(f"/campaigns/templates/{template.pk}/").content.decode()
    client.post(f"/campaigns/templates/{template.pk}/approve/")
    template.refresh_from_db()
    assert template.approved_by is None  # its owner cannot
    checker = UserFactory(username="max", role="marketing_manager")
    web_as(checker).post(f"/campaigns/templates/{template.pk}/approve/")
    template.refresh_from_db()
    assert template.approved_by == checker


def test_a_threshold_rule_is_saved_from_the_rule_form(web_as, mia):
    client = web_as(mia)
    response = client.post("/campaigns/triggers/new/", {
        "name": "Heavy loss", "threshold_kind": "holding_loss", "threshold_days": "30", "threshold_pct": "20",
        "threshold_min_amount": "100000", "threshold_direction": "down", "action": "task", "priority": "1",
        "sla_hours": "4", "quiet_hours": "defer", "window_hours": "168", "active": "on"})
    rule = TriggerRule.objects.get()
    assert response.status_code == 302
    assert rule.threshold == {"kind": "holding_loss", "days": 30, "pct": 20, "min_amount": 100000}
    page = client.get("/campaigns/triggers/").content.decode()
    assert "lost 20 % or more over 30 days" in page
    refused = client.post("/campaigns/triggers/new/", {
        "name": "Soon", "threshold_kind": "maturing", "action": "task", "priority": "1", "sla_hours": "4",
        "quiet_hours": "defer", "window_hours": "24"})
    assert refused.status_code == 200 and "needs days" in refused.content.decode()
    assert TriggerRule.objects.count() == 1
