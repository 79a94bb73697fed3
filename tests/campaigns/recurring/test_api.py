"""The templates API: created and changed with the page's rules, refused with field errors, approved, and
its waves read back with their figures."""

from datetime import time

import pytest
from django.test import override_settings

from campaigns.models import CampaignTemplate
from tests.campaigns.recurring.test_waves import at, next_weekday
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BODY = {"name": "Dormant wake-up", "plan": "Wake-up gift", "text": "vip", "channel": "wechat", "weekday": 3,
        "window_start": "14:00", "window_end": "16:00", "holdout_pct": "20"}


def test_a_template_is_created_changed_and_read_back(api_as, mia, vip):
    api = api_as(mia)
    created = api.post("/api/v1/templates/", BODY, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["expression"], body["owner"], body["window_start"]) == ({"tag": "vip"}, "mia", "14:00:00")
    changed = api.patch(f"/api/v1/templates/{body['id']}/", {"window_end": "17:00", "active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["window_end"] == "17:00:00"
    template = CampaignTemplate.objects.get()
    assert (template.window_end, template.active, template.text) == (time(17), False, "vip")
    assert [row["id"] for row in api.get("/api/v1/templates/").json()["results"]] == [template.pk]


@pytest.mark.parametrize(("change", "field"), [
    ({"window_end": "13:00"}, "window_end"), ({"text": "vipp"}, "text"), ({"strategy": "round_robin"}, "account_managers"),
    ({"weekday": 9}, "weekday"), ({"holdout_pct": "70"}, "holdout_pct"),
])
def test_a_bad_template_is_refused_naming_the_field_and_nothing_is_saved(api_as, mia, vip, change, field):
    response = api_as(mia).post("/api/v1/templates/", BODY | change, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not CampaignTemplate.objects.exists()


@override_settings(CAMPAIGN_APPROVAL_REQUIRED=True)
def test_approval_and_waves_through_the_api(api_as, mia, vip, make_vips, alice, django_capture_on_commit_callbacks):
    from campaigns.recurring.services import launch_due_waves

    make_vips(30, owner=alice)
    template = api_as(mia).post("/api/v1/templates/", BODY, format="json").json()
    assert api_as(mia).post(f"/api/v1/templates/{template['id']}/approve/").status_code == 409  # its owner
    checker = UserFactory(username="max", role="marketing_manager")
    approved = api_as(checker).post(f"/api/v1/templates/{template['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "max"
    thursday = next_weekday(3)
    with django_capture_on_commit_callbacks(execute=True):
        [wave] = launch_due_waves(now=at(thursday, "14:30"))
    answer = api_as(mia).get(f"/api/v1/templates/{template['id']}/waves/").json()
    assert [(row["campaign"], row["wave_date"], row["status"]) for row in answer["waves"]] == [
        (wave, thursday.isoformat(), "running")]
    assert answer["together"]["waves"] == 1 and answer["together"]["customers"] == answer["waves"][0]["figures"]["customers"]
    assert api_as(alice).get("/api/v1/templates/").status_code == 403
