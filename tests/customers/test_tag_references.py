"""Issue 20: deleting, merging or renaming a tag never breaks a saved segment or a draft campaign;
account managers see tag counts of their own customers."""

import pytest

from customers import services
from customers.models import Tag, TagChange
from segments.models import Segment
from segments.services import save_segment
from tests.factories import CampaignFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags():
    return {slug: Tag.objects.create(slug=slug, name=slug) for slug in ("vip", "wechat", "app-user", "gold")}


def test_a_tag_a_segment_names_cannot_be_deleted_and_the_page_lists_who_names_it(web_as, mia, tags):
    segment = save_segment(name="VIP on WeChat", text="vip AND wechat", by=mia)
    draft = CampaignFactory(name="Spring call", owner=mia, text="wechat", expression={"tag": "wechat"})
    client = web_as(mia)
    page = client.get(f"/customers/tags/{tags['wechat'].pk}/delete/")
    assert "VIP on WeChat" in page.content.decode() and "Spring call" in page.content.decode()
    client.post(f"/customers/tags/{tags['wechat'].pk}/delete/")
    assert Tag.objects.filter(slug="wechat").exists()
    with pytest.raises(services.ValidationError, match="VIP on WeChat"):
        services.delete_tag(tag=tags["wechat"])
    assert client.get(f"/segments/{segment.pk}/").status_code == 200
    assert client.get(f"/campaigns/{draft.pk}/").status_code == 200
    client.post(f"/customers/tags/{tags['gold'].pk}/delete/")  # named by nothing: deleted
    assert not Tag.objects.filter(slug="gold").exists()


def test_renaming_a_slug_rewrites_segments_and_draft_campaigns(api_as, mia, tags):
    segment = save_segment(name="VIP not app", text="vip AND NOT app-user", by=mia)
    draft = CampaignFactory(owner=mia, text="vip OR wechat", expression={"any": [{"tag": "vip"}, {"tag": "wechat"}]})
    launched = CampaignFactory(owner=mia, status="running", text="vip", expression={"tag": "vip"})
    services.update_tag(tag=tags["vip"], name="VIP", category="other", slug="vip-client")
    segment.refresh_from_db()
    draft.refresh_from_db()
    launched.refresh_from_db()
    assert segment.text == "vip-client AND NOT app-user" and draft.text == "vip-client OR wechat"
    assert launched.text == "vip"  # a launched campaign's audience is frozen history
    answer = api_as(mia).get("/api/v1/segments/")
    assert answer.status_code == 200


def test_merging_rewrites_every_expression_to_the_target_and_records_the_history(web_as, mia, tags):
    ann = CustomerFactory(tags=[tags["wechat"]])
    both = save_segment(name="Social", text="wechat OR app-user", by=mia)
    client = web_as(mia)
    preview = client.post("/customers/tags/merge/", {"sources": [tags["wechat"].pk], "target": tags["app-user"].pk})
    assert "Social" in preview.content.decode()
    client.post("/customers/tags/merge/", {"sources": [tags["wechat"].pk], "target": tags["app-user"].pk,
                                           "confirmed": "1"})
    both.refresh_from_db()
    assert both.text == "app-user" and both.expression == {"tag": "app-user"}
    assert client.get(f"/segments/{both.pk}/").status_code == 200
    assert set(TagChange.objects.filter(customer=ann).values_list("tag_slug", "action")) == {
        ("app-user", "added"), ("wechat", "removed")}


def test_deleting_a_tag_records_its_removal_from_each_customer(mia, tags):
    ann = CustomerFactory(tags=[tags["gold"]])
    services.delete_tag(tag=tags["gold"], by=mia)
    assert TagChange.objects.get(customer=ann).tag_slug == "gold"
    assert not Segment.objects.exists()


def test_an_account_manager_sees_counts_of_her_own_customers(api_as, alice, bob, mia, tags):
    CustomerFactory(owner=alice, tags=[tags["vip"]])
    for _ in range(3):
        CustomerFactory(owner=bob, tags=[tags["vip"]])
    counts = {row["slug"]: row["customer_count"] for row in api_as(alice).get("/api/v1/tags/").json()["results"]}
    assert counts["vip"] == 1
    counts = {row["slug"]: row["customer_count"] for row in api_as(mia).get("/api/v1/tags/").json()["results"]}
    assert counts["vip"] == 4


def test_a_segment_broken_outside_loopcrm_leaves_the_list_and_its_page_usable(api_as, web_as, mia, tags):
    """A tag deleted around the services (the admin, SQL) still must not take the segments API down."""
    broken = save_segment(name="Gold", text="gold", by=mia)
    save_segment(name="VIP", text="vip", by=mia)
    Tag.objects.filter(slug="gold").delete()
    rows = {row["name"]: row for row in api_as(mia).get("/api/v1/segments/").json()["results"]}
    assert rows["VIP"]["count"] == 0 and rows["VIP"]["problem"] is None
    assert rows["Gold"]["count"] is None and "gold" in rows["Gold"]["problem"]
    page = web_as(mia).get(f"/segments/{broken.pk}/", follow=True)
    assert page.status_code == 200 and "cannot be evaluated" in page.content.decode()
