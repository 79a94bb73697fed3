"""`/api/v1/triggers/` (DESIGN.md's fields) and the rule pages: bad input is a 400 naming the field and
saves nothing; a rule saved either way is the same rule."""

import pytest

from campaigns.models import Campaign, TriggerRule
from campaigns.triggers import services
from tests.factories import CustomerFactory, TagFactory

CONTRACT = {"name", "event", "properties", "absent_event", "absent_within_hours", "segment", "action", "priority",
            "sla_hours", "script", "quiet_hours", "active"}


def test_create_read_change_and_delete_through_the_api(db, api_as, mia):
    TagFactory(slug="vip")
    body = {"name": "Opening failed", "event": "account_opening_failed", "properties": {"step": "kyc"},
            "segment": "vip", "action": "task", "priority": 1, "sla_hours": 2, "script": "Call today.",
            "quiet_hours": "drop", "active": True}
    created = api_as(mia).post("/api/v1/triggers/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert CONTRACT <= set(data) and {key: data[key] for key in body} == body
    assert data["expression"] == {"tag": "vip"} and data["absent_event"] == "" and data["absent_within_hours"] is None
    rule = TriggerRule.objects.get()
    assert rule.campaign.status == Campaign.Status.RUNNING and rule.campaign.script == "Call today."
    assert api_as(mia).get("/api/v1/triggers/").json()["results"][0]["id"] == rule.pk
    changed = api_as(mia).patch(f"/api/v1/triggers/{rule.pk}/", {"segment": {"field": "assets", "op": "gte",
                                                                             "value": 100}}, format="json")
    assert changed.status_code == 200 and changed.json()["segment"] == "assets >= 100"
    kept = api_as(mia).patch(f"/api/v1/triggers/{rule.pk}/", {"sla_hours": 8}, format="json").json()
    assert kept["segment"] == "assets >= 100" and kept["sla_hours"] == 8
    assert api_as(mia).delete(f"/api/v1/triggers/{rule.pk}/").status_code == 204
    assert not TriggerRule.objects.exists()
    assert Campaign.objects.get().status == Campaign.Status.COMPLETED


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"event": ""}, "event"),  # no event and no condition
    ({"event": "Account Opening Failed"}, "event"),  # never the type of an event that arrives
    ({"properties": ["step"]}, "properties"),
    ({"properties": {"loss": {"gte": "a lot"}}}, "properties"),
    ({"properties": {"loss": {"between": [1, 2]}}}, "properties"),
    ({"absent_event": "purchase_completed"}, "absent_within_hours"),
    ({"absent_event": "account_opening_failed", "absent_within_hours": 2}, "absent_event"),
    ({"segment": "vip AND ("}, "segment"),
    ({"segment": "nosuchtag"}, "segment"),
    ({"segment": 42}, "segment"),
    ({"action": "sms"}, "action"),
    ({"sla_hours": 0}, "sla_hours"),
    ({"quiet_hours": "ignore"}, "quiet_hours"),
    ({"window_hours": 0}, "window_hours"),
])
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(db, api_as, mia, change, field):
    TagFactory(slug="vip")
    body = {"name": "Opening failed", "event": "account_opening_failed", **change}
    response = api_as(mia).post("/api/v1/triggers/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not TriggerRule.objects.exists() and not Campaign.objects.exists()


def test_names_are_unique(db, api_as, mia):
    services.save_rule(by=mia, name="Opening failed", event="account_opening_failed")
    response = api_as(mia).post("/api/v1/triggers/", {"name": "Opening failed", "event": "x"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_account_managers_cannot_touch_rules(db, api_as, alice, mia):
    rule = services.save_rule(by=mia, name="Opening failed", event="account_opening_failed")
    assert api_as(alice).get("/api/v1/triggers/").status_code == 403
    assert api_as(alice).patch(f"/api/v1/triggers/{rule.pk}/", {"active": False}, format="json").status_code == 403


def test_the_pages_make_and_show_a_rule(db, web_as, mia, alice, django_capture_on_commit_callbacks):
    TagFactory(slug="vip")
    web = web_as(mia)
    response = web.post("/campaigns/triggers/new/", {
        "name": "Loss", "event": "position_loss", "properties": '{"loss_pct": {"gte": 20}}', "segment": "vip",
        "action": "task", "priority": 1, "sla_hours": 4, "quiet_hours": "defer", "window_hours": 24, "active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = TriggerRule.objects.get()
    assert rule.properties == {"loss_pct": {"gte": 20}} and rule.text == "vip"
    bad = web.post("/campaigns/triggers/new/", {"name": "Bad", "event": "x", "properties": "{not json",
                                                "action": "task", "priority": 1, "sla_hours": 4,
                                                "quiet_hours": "defer", "window_hours": 24})
    assert bad.status_code == 200 and "Not valid JSON" in bad.content.decode()
    CustomerFactory(owner=alice, tags=[])
    page = web.get(f"/campaigns/triggers/{rule.pk}/").content.decode()
    assert "It has not fired yet" in page and "position_loss" in page
    listing = web.get("/campaigns/triggers/").content.decode()
    assert "Loss" in listing and "<code>vip</code>" in listing


def test_a_rule_whose_campaign_name_is_taken_is_refused(db, api_as, mia):
    from tests.factories import CampaignFactory

    CampaignFactory(name="Trigger: Opening failed", owner=mia)
    response = api_as(mia).post("/api/v1/triggers/", {"name": "Opening failed", "event": "x"}, format="json")
    assert response.status_code == 400 and "campaign named" in response.json()["name"][0]
    assert not TriggerRule.objects.exists()
