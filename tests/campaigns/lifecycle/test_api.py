"""The campaigns and tasks API as DESIGN.md describes it."""

from decimal import Decimal

import pytest

from campaigns.models import Campaign, Task

pytestmark = pytest.mark.django_db


def create_body(**overrides):
    body = {"name": "Wake-up calls", "channel": "phone", "text": "vip", "holdout_pct": 10, "strategy": "owner",
            "cost_fixed": "1000.00", "cost_per_contact": "2.50", "value_per_conversion": "300"}
    body.update(overrides)
    return body


def launched(api, make_vips, owner, capture, **overrides):
    make_vips(40, owner=owner)
    response = api.post("/api/v1/campaigns/", create_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    with capture(execute=True):
        launch = api.post(f"/api/v1/campaigns/{response.json()['id']}/launch/")
    assert launch.status_code == 202, launch.json()
    return Campaign.objects.get(pk=response.json()["id"]), launch.json()["job"]


def test_create_with_text_normalises_and_slugs(api_as, mia, vip):
    response = api_as(mia).post("/api/v1/campaigns/", create_body(text="vip  AND assets>=100"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text"] == "vip AND assets >= 100" and body["slug"] == "wake-up-calls"
    assert body["status"] == "draft" and body["owner"] == "mia"


def test_bad_expression_is_a_400_with_the_position(api_as, mia, vip):
    response = api_as(mia).post("/api/v1/campaigns/", create_body(text="vip AND nosuchtag"), format="json")
    assert response.status_code == 400
    assert "nosuchtag" in response.json()["text"][0] and response.json()["position"] == 8
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"strategy": "round_robin"}, "account_managers"),
    ({"strategy": "round_robin", "account_managers": ["nobody"]}, "account_managers"),
    ({"holdout_pct": 75}, "holdout_pct"),
    ({"cost_per_contact": "-1"}, "cost_per_contact"),
    ({"channel": "pigeon"}, "channel"),
    ({"text": ""}, "text"),
    ({"due_date": "2001-01-01"}, "due_date"),
])
def test_invalid_campaigns_get_field_errors_and_change_nothing(api_as, mia, vip, body, field):
    response = api_as(mia).post("/api/v1/campaigns/", create_body(**body), format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Campaign.objects.exists()


def test_search_matches_name(api_as, mia, vip):
    client = api_as(mia)
    client.post("/api/v1/campaigns/", create_body(name="Spring funds"), format="json")
    client.post("/api/v1/campaigns/", create_body(name="Autumn bonds"), format="json")
    names = [row["name"] for row in client.get("/api/v1/campaigns/?search=fund").json()["results"]]
    assert names == ["Spring funds"]


def test_account_managers_cannot_use_the_campaigns_api(api_as, alice):
    assert api_as(alice).get("/api/v1/campaigns/").status_code == 403
    assert api_as(alice).post("/api/v1/campaigns/", create_body(), format="json").status_code == 403


def test_launch_is_202_then_409_and_never_new_tasks(api_as, mia, alice, make_vips, django_capture_on_commit_callbacks):
    client = api_as(mia)
    campaign, job = launched(client, make_vips, alice, django_capture_on_commit_callbacks)
    assert client.get(f"/api/v1/jobs/{job}/").json()["state"] == "succeeded"
    again = client.post(f"/api/v1/campaigns/{campaign.pk}/launch/")
    assert again.status_code == 409 and "already launched" in again.json()["detail"]
    assert Task.objects.filter(campaign=campaign).count() == 40


def test_launch_of_an_empty_audience_is_a_clear_400(api_as, mia, vip):
    client = api_as(mia)
    campaign = client.post("/api/v1/campaigns/", create_body(), format="json").json()
    response = client.post(f"/api/v1/campaigns/{campaign['id']}/launch/")
    assert response.status_code == 400 and "audience is empty" in response.json()["detail"]


def test_audience_preview_counts_exclusions(api_as, mia, alice, make_vips):
    make_vips(8, owner=alice)
    make_vips(2, owner=alice, do_not_contact=True)
    client = api_as(mia)
    campaign = client.post("/api/v1/campaigns/", create_body(holdout_pct=0), format="json").json()
    plan = client.get(f"/api/v1/campaigns/{campaign['id']}/audience/").json()
    assert plan == {"text": "vip", "audience": 10, "excluded": {"do_not_contact": 2}, "excluded_total": 2,
                    "holdout": 0, "tasks": 8}
    assert not Task.objects.exists()


def test_launch_fields_are_frozen_after_launch(api_as, mia, alice, make_vips, django_capture_on_commit_callbacks):
    client = api_as(mia)
    campaign, _job = launched(client, make_vips, alice, django_capture_on_commit_callbacks)
    response = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"text": "vip OR vip", "holdout_pct": 20},
                            format="json")
    assert response.status_code == 400 and set(response.json()) == {"text", "holdout_pct"}
    assert client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"script": "Say hello", "cost_fixed": "1200"},
                        format="json").status_code == 200


def test_stats_follow_the_outcomes(api_as, mia, alice, make_vips, django_capture_on_commit_callbacks):
    client = api_as(mia)
    campaign, _job = launched(client, make_vips, alice, django_capture_on_commit_callbacks, holdout_pct=0)
    tasks = list(campaign.tasks.order_by("pk").values_list("pk", flat=True))
    Task.objects.filter(pk__in=tasks[:10]).update(status="done", contact_result="reached", response="declined")
    Task.objects.filter(pk__in=tasks[:4]).update(response="converted", amount=Decimal("5000"))
    Task.objects.filter(pk__in=tasks[10:12]).update(status="done", contact_result="unreachable")

    stats = client.get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()

    assert (stats["audience"], stats["holdout"], stats["tasks"], stats["done"]) == (40, 0, 40, 12)
    assert (stats["contacted"], stats["converted"]) == (12, 4)
    assert stats["success_rate"] == pytest.approx(4 / 12, abs=1e-4)
    assert Decimal(stats["revenue"]) == 20000 and Decimal(stats["cost"]) == Decimal("1030.00")
    assert stats["roi"] == pytest.approx((20000 - 1030) / 1030, abs=1e-4)
    assert stats["by_channel"][0]["channel"] == "phone" and stats["by_channel"][0]["converted"] == 4
    assert stats["by_account_manager"][0]["account_manager"] == "alice"


def test_account_manager_sees_only_own_contact_tasks(api_as, mia, alice, bob, make_vips,
                                                     django_capture_on_commit_callbacks):
    make_vips(10, owner=bob)
    campaign, _job = launched(api_as(mia), make_vips, alice, django_capture_on_commit_callbacks, holdout_pct=20)
    mine = api_as(alice).get("/api/v1/tasks/").json()
    expected = Task.objects.filter(assignee=alice, group="treatment").count()
    assert mine["count"] == expected and {row["assignee"] for row in mine["results"]} == {"alice"}
    assert {row["group"] for row in mine["results"]} == {"treatment"}
    bobs = Task.objects.filter(assignee=bob).first()
    control = Task.objects.filter(campaign=campaign, group="control").first()
    assert api_as(alice).get(f"/api/v1/tasks/{bobs.pk}/").status_code == 404
    assert api_as(alice).get(f"/api/v1/tasks/{control.pk}/").status_code == 404
    everyone = api_as(mia).get(f"/api/v1/tasks/?campaign={campaign.pk}").json()
    assert everyone["count"] == 50


def test_reassign_through_the_api(api_as, mia, alice, bob, make_vips, django_capture_on_commit_callbacks):
    campaign, _job = launched(api_as(mia), make_vips, alice, django_capture_on_commit_callbacks, holdout_pct=0)
    ids = list(campaign.tasks.values_list("pk", flat=True)[:3])
    assert api_as(alice).post("/api/v1/tasks/reassign/", {"tasks": ids, "to": "bob"}, format="json").status_code == 403
    response = api_as(mia).post("/api/v1/tasks/reassign/", {"tasks": ids, "to": "bob"}, format="json")
    assert response.json() == {"reassigned": 3}
    bad = api_as(mia).post("/api/v1/tasks/reassign/", {"tasks": ids, "to": "mia"}, format="json")
    assert bad.status_code == 400 and "to" in bad.json()
