import pytest

from customers.models import Customer, Tag
from customers.services import add_tag
from segments.models import Segment
from tests.factories import BranchFactory, CustomerFactory, TagFactory


@pytest.fixture
def crowd(db):
    vip, wechat, app = TagFactory(slug="vip"), TagFactory(slug="wechat"), TagFactory(slug="app_user")
    sz = BranchFactory(code="SZ01")
    return {
        "a": CustomerFactory(external_id="A", assets=2_000_000, branch=sz, tags=[vip, wechat]),
        "b": CustomerFactory(external_id="B", assets=500_000, tags=[vip, app]),
        "c": CustomerFactory(external_id="C", assets=100, tags=[wechat]),
        "d": CustomerFactory(external_id="D", assets=0),
    }


def test_preview_returns_count_time_and_sample(api_as, mia, crowd):
    response = api_as(mia).post("/api/v1/segments/preview/", {"text": "vip AND (wechat OR app_user)"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["total"] == 4 and body["share"] == 0.5
    assert isinstance(body["took_ms"], float) and 0 < body["took_ms"] < 5_000
    assert sorted(row["external_id"] for row in body["sample"]) == ["A", "B"]
    assert body["text"] == "vip AND (wechat OR app_user)"


def test_preview_accepts_the_json_tree(api_as, mia, crowd):
    tree = {"all": [{"tag": "vip"}, {"field": "assets", "op": "gte", "value": 1000000}]}
    assert api_as(mia).post("/api/v1/segments/preview/", {"expression": tree}, format="json").json()["count"] == 1


@pytest.mark.parametrize("body, fragment", [
    ({"text": "vip AND"}, "ends too early"),
    ({"text": "vip AND nosuchtag"}, "Unknown tag: nosuchtag"),
    ({"text": "colour = red"}, "Unknown field"),
    ({"text": "assets >= rich"}, "must be a number"),
    ({"text": "branch = XX99"}, "Unknown branch"),
    ({"text": "owner = ghost"}, "Unknown owner"),
    ({"expression": {"tag": 5}}, "not a tag slug"),
    ({"expression": {"all": "vip"}}, "non-empty list"),
    ({"expression": "vip"}, "Expected an object"),
    ({"expression": {"field": "age", "op": "between", "value": [50]}}, "two values"),
    ({}, "Give an expression"),
    ({"text": "vip", "expression": {"tag": "vip"}}, "not both"),
])
def test_bad_expressions_get_400_with_a_message(api_as, mia, crowd, body, fragment):
    response = api_as(mia).post("/api/v1/segments/preview/", body, format="json")
    assert response.status_code == 400
    assert fragment in str(response.json())


def test_unknown_tag_error_points_at_it(api_as, mia, crowd):
    body = api_as(mia).post("/api/v1/segments/preview/", {"text": "vip AND nosuchtag"}, format="json").json()
    assert body["position"] == 8


def test_account_managers_cannot_use_segments(api_as, alice, crowd):
    assert api_as(alice).post("/api/v1/segments/preview/", {"text": "vip"}, format="json").status_code == 403
    assert api_as(alice).get("/api/v1/segments/").status_code == 403


def test_saved_dynamic_segment_follows_the_data_and_lists_members(api_as, mia, crowd):
    client = api_as(mia)
    created = client.post("/api/v1/segments/", {"name": "VIP", "text": "vip"}, format="json")
    assert created.status_code == 201 and created.json()["count"] == 2
    add_tag(tag=Tag.objects.get(slug="vip"), customers=Customer.objects.filter(external_id="D"))
    segment_id = created.json()["id"]
    members = client.get(f"/api/v1/segments/{segment_id}/members/").json()
    assert members["count"] == 3
    assert sorted(row["external_id"] for row in members["results"]) == ["A", "B", "D"]


def test_snapshot_segment_keeps_its_members_until_refreshed(api_as, mia, crowd):
    client = api_as(mia)
    created = client.post("/api/v1/segments/", {"name": "VIP frozen", "text": "vip", "kind": "snapshot"}, format="json").json()
    assert created["snapshot_count"] == 2 and created["snapshot_at"]
    add_tag(tag=Tag.objects.get(slug="vip"), customers=Customer.objects.filter(external_id="D"))
    assert client.get(f"/api/v1/segments/{created['id']}/members/").json()["count"] == 2
    refreshed = client.post(f"/api/v1/segments/{created['id']}/refresh/").json()
    assert refreshed["snapshot_count"] == 3


def test_saving_a_bad_segment_changes_nothing(api_as, mia, crowd):
    response = api_as(mia).post("/api/v1/segments/", {"name": "Broken", "text": "vip OR"}, format="json")
    assert response.status_code == 400 and "position" in response.json()
    assert not Segment.objects.exists()


def test_overlap_counts_every_combination(api_as, mia, crowd):
    body = api_as(mia).post("/api/v1/segments/overlap/", {"crowds": [{"text": "vip"}, {"text": "wechat"}]},
                            format="json").json()
    cells = {tuple(cell["in"]): cell["count"] for cell in body["cells"]}
    assert cells == {(True, True): 1, (True, False): 1, (False, True): 1, (False, False): 1}
    assert sum(cells.values()) == body["total"] == 4
    assert body["cells"][1]["text"] == "vip AND NOT wechat"


def test_profile_compares_the_audience_with_everyone(api_as, mia, crowd):
    segment = api_as(mia).post("/api/v1/segments/", {"name": "VIP", "text": "vip"}, format="json").json()
    profile = api_as(mia).get(f"/api/v1/segments/{segment['id']}/profile/").json()
    assert profile["audience"] == 2 and profile["total"] == 4
    tiers = {row["label"]: (row["audience"], row["all"]) for row in profile["asset_tier"]}
    assert tiers["1M–5M"] == (1, 1) and tiers["500k–1M"] == (1, 1) and tiers["under 100k"] == (0, 2)


def test_a_taken_segment_name_is_a_400_not_a_500(api_as, mia, crowd):
    client = api_as(mia)
    assert client.post("/api/v1/segments/", {"name": "VIP", "text": "vip"}, format="json").status_code == 201
    again = client.post("/api/v1/segments/", {"name": "VIP", "text": "wechat"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    assert Segment.objects.count() == 1


def test_deleting_a_segment_a_campaign_uses_is_refused_with_the_campaigns_name(api_as, web_as, mia):
    from campaigns.models import Campaign
    from segments import services

    TagFactory(slug="vip")
    segment = services.save_segment(name="VIPs", text="vip", by=mia)
    Campaign.objects.create(name="Spring wake-up", slug="spring", owner=mia, segment=segment)
    response = api_as(mia).delete(f"/api/v1/segments/{segment.pk}/")
    assert response.status_code == 400
    assert "Spring wake-up" in response.json()["detail"][0]
    page = web_as(mia).post(f"/segments/{segment.pk}/delete/", follow=True)
    assert page.status_code == 200 and "Spring wake-up" in page.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()


@pytest.mark.django_db
def test_an_unknown_tag_suggests_the_tags_it_looks_like(api_as, mia):
    from tests.factories import TagFactory

    for slug in ("wechat", "wechat-follower", "housing-yes"):
        TagFactory(slug=slug)
    answer = api_as(mia).post("/api/v1/segments/preview/", {"text": "vip AND wechatt"}, format="json").json()
    assert answer["detail"].startswith("Unknown tag: vip, wechatt. Did you mean wechat")
    assert answer["position"] == 0
    housing = api_as(mia).post("/api/v1/segments/preview/", {"text": "housing"}, format="json").json()
    assert "Did you mean housing-yes?" in housing["detail"]


@pytest.mark.django_db
def test_a_page_of_segment_members_takes_the_same_few_queries_however_many_tags(api_as, mia,
                                                                             django_assert_max_num_queries):
    """Issue 21: tags were fetched per customer — 1,256 queries for one page of 50."""
    from segments.services import save_segment
    from tests.factories import CustomerFactory, TagFactory

    tags = [TagFactory(slug=f"t{number}") for number in range(8)]
    for _ in range(30):
        CustomerFactory(tags=tags)
    segment = save_segment(name="All", text="t0", by=mia)
    client = api_as(mia)
    client.get(f"/api/v1/segments/{segment.pk}/members/")  # warms the audience index
    with django_assert_max_num_queries(12):
        answer = client.get(f"/api/v1/segments/{segment.pk}/members/?page_size=30")
    assert len(answer.json()["results"]) == 30 and answer.json()["results"][0]["tags"] == sorted(
        tag.slug for tag in tags)
