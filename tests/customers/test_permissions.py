"""An account manager never sees another's customers: list, read, export, edit, bulk — HTML and API."""

import pytest

from customers.models import Customer, CustomerTag, Tag
from tests.factories import CustomerFactory, TagFactory


@pytest.fixture
def alices_customer(alice, shenzhen):
    return CustomerFactory(external_id="A-1", name="Alice's client", owner=alice, branch=shenzhen)


@pytest.fixture
def bobs_customer(bob, shanghai):
    return CustomerFactory(external_id="B-1", name="Bob's client", owner=bob, branch=shanghai)


def test_alice_lists_only_her_customers_in_the_api(api_as, alice, alices_customer, bobs_customer):
    ids = [row["external_id"] for row in api_as(alice).get("/api/v1/customers/").json()["results"]]
    assert ids == ["A-1"]


def test_alice_cannot_read_bobs_customer_in_the_api(api_as, alice, bobs_customer):
    assert api_as(alice).get(f"/api/v1/customers/{bobs_customer.pk}/").status_code == 404


def test_alice_cannot_patch_bobs_customer(api_as, alice, bobs_customer):
    response = api_as(alice).patch(f"/api/v1/customers/{bobs_customer.pk}/", {"name": "mine now"}, format="json")
    assert response.status_code == 404
    bobs_customer.refresh_from_db()
    assert bobs_customer.name == "Bob's client"


def test_alice_may_edit_her_own_customer_but_not_give_it_away(api_as, alice, bob, alices_customer):
    client = api_as(alice)
    assert client.patch(f"/api/v1/customers/{alices_customer.pk}/", {"phone": "13900000000"}, format="json").status_code == 200
    response = client.patch(f"/api/v1/customers/{alices_customer.pk}/", {"owner": "bob"}, format="json")
    assert response.status_code == 400 and "owner" in response.json()


def test_alice_cannot_create_customers_or_tags_or_import(api_as, alice, db):
    client = api_as(alice)
    assert client.post("/api/v1/customers/", {"external_id": "Z"}, format="json").status_code == 403
    assert client.post("/api/v1/tags/", {"slug": "z", "name": "z"}, format="json").status_code == 403
    assert client.post("/api/v1/customers/import/", {}).status_code == 403


def test_alice_cannot_open_bobs_customer_page(web_as, alice, bobs_customer):
    assert web_as(alice).get(f"/customers/{bobs_customer.pk}/").status_code == 404


def test_alice_does_not_see_bobs_customer_in_the_list_page(web_as, alice, alices_customer, bobs_customer):
    page = web_as(alice).get("/customers/").content.decode()
    assert "A-1" in page and "B-1" not in page


def test_alice_exports_only_her_customers(web_as, alice, alices_customer, bobs_customer):
    body = b"".join(web_as(alice).get("/customers/export/?format=csv").streaming_content).decode()
    assert "A-1" in body and "B-1" not in body


def test_alice_cannot_tag_bobs_customer_inline(web_as, alice, bobs_customer):
    tag = TagFactory(slug="vip")
    response = web_as(alice).post(f"/customers/{bobs_customer.pk}/tags/", {"tag": "vip"})
    assert response.status_code == 404
    assert not CustomerTag.objects.filter(tag=tag).exists()


def test_alice_cannot_bulk_tag_bobs_customer(web_as, alice, alices_customer, bobs_customer):
    TagFactory(slug="vip")
    response = web_as(alice).post("/customers/bulk/", {
        "action": "add_tag", "tag": "vip", "ids": f"{alices_customer.pk},{bobs_customer.pk}",
    })
    assert response.status_code == 404
    assert not CustomerTag.objects.exists()


def test_alice_bulk_tagging_all_matching_touches_only_her_customers(web_as, alice, alices_customer, bobs_customer):
    TagFactory(slug="vip")
    web_as(alice).post("/customers/bulk/", {"action": "add_tag", "tag": "vip", "all_matching": "on", "query": "",
                                           "confirmed": "1"})
    assert list(Tag.objects.get(slug="vip").customers.values_list("external_id", flat=True)) == ["A-1"]


def test_alice_cannot_reassign_customers(web_as, alice, bob, alices_customer):
    response = web_as(alice).post("/customers/bulk/", {"action": "assign_owner", "owner": "bob",
                                                         "ids": str(alices_customer.pk)})
    assert response.status_code == 403
    assert Customer.objects.get(pk=alices_customer.pk).owner == alice


@pytest.mark.parametrize("url", ["/customers/tags/", "/customers/tags/new/", "/customers/import/", "/customers/tags/merge/"])
def test_account_managers_cannot_open_manager_pages(web_as, alice, url):
    assert web_as(alice).get(url).status_code == 403


def test_mia_sees_every_customer(api_as, mia, alices_customer, bobs_customer):
    assert api_as(mia).get("/api/v1/customers/").json()["count"] == 2
