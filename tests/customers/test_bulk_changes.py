"""Issue 14: bulk actions that cannot wreck a book — the exact count and what changes first,
other branches only when confirmed, every change recorded and undone from the record."""

import pytest

from customers.models import BulkChange, Customer, CustomerTag, Tag
from tests.factories import BranchFactory, CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, bob, shenzhen, shanghai):
    """Alice's 5 customers in Shenzhen, Bob's 3 in Shanghai, 2 nobody's without a branch."""
    return ([CustomerFactory(owner=alice, branch=shenzhen) for _ in range(5)]
            + [CustomerFactory(owner=bob, branch=shanghai) for _ in range(3)]
            + [CustomerFactory() for _ in range(2)])


def everyone(client, **fields):
    return client.post("/customers/bulk/", {"action": "assign_owner", "all_matching": "on", "query": "", **fields},
                       follow=True)


def test_assigning_everyone_asks_first_with_the_exact_count_and_who_loses_them(web_as, mia, bob, book):
    bob.first_name, bob.last_name = "Bob", "Li"
    bob.save()
    page = everyone(web_as(mia), owner="bob").content.decode()
    assert "7 customers from 2 managers to Bob Li" in page  # bob's own 3 do not change
    assert "<td>alice</td><td class=\"num\">5</td>" in page and "5 customers are in another branch" in page
    assert Customer.objects.filter(owner=bob).count() == 3 and not BulkChange.objects.exists()


def test_other_branches_move_only_when_confirmed(web_as, mia, bob, alice, book):
    client = web_as(mia)
    refused = everyone(client, owner="bob", confirmed="1").content.decode()
    assert "in another branch" in refused and Customer.objects.filter(owner=alice).count() == 5
    everyone(client, owner="bob", confirmed="1", other_branches="1")
    assert Customer.objects.filter(owner=bob).count() == 10
    change = BulkChange.objects.get()
    assert change.count == 7 and change.by == mia and change.rows.count() == 7


def test_an_undo_puts_back_owners_and_branches_but_never_a_later_change(web_as, mia, alice, bob, book, shenzhen):
    client = web_as(mia)
    everyone(client, owner="bob", confirmed="1", other_branches="1")
    later = UserFactory(username="carl", role="account_manager", branch=BranchFactory(code="GZ01"))
    moved_on = book[0]
    Customer.objects.filter(pk=moved_on.pk).update(owner=later)  # changed again after the bulk change
    change = BulkChange.objects.get()
    page = client.post(f"/customers/bulk/changes/{change.pk}/undo/", follow=True).content.decode()
    assert "Undone: 6 customers are as before." in page
    assert Customer.objects.filter(owner=alice, branch=shenzhen).count() == 4
    assert Customer.objects.get(pk=moved_on.pk).owner == later
    assert Customer.objects.filter(owner=None, branch=None).count() == 2
    again = client.post(f"/customers/bulk/changes/{change.pk}/undo/", follow=True).content.decode()
    assert "already undone" in again
    assert BulkChange.objects.get().undone_by == mia


def test_tag_changes_are_recorded_and_undone_and_each_user_sees_her_own(web_as, mia, alice, bob, book):
    vip = TagFactory(slug="vip")
    ids = ",".join(str(customer.pk) for customer in book[:5])
    client = web_as(alice)
    confirm = client.post("/customers/bulk/", {"action": "add_tag", "tag": "vip", "ids": ids}).content.decode()
    assert "Add tag vip to 5 customers" in confirm
    client.post("/customers/bulk/", {"action": "add_tag", "tag": "vip", "ids": ids, "confirmed": "1"})
    assert CustomerTag.objects.filter(tag=vip).count() == 5
    change = BulkChange.objects.get()
    assert "Add tag vip to 5 customers" in client.get("/customers/bulk/changes/").content.decode()
    assert web_as(bob).post(f"/customers/bulk/changes/{change.pk}/undo/").status_code == 404  # not hers to undo
    web_as(alice).post(f"/customers/bulk/changes/{change.pk}/undo/")
    assert not CustomerTag.objects.filter(tag=vip).exists()
    assert "Add tag vip" in web_as(mia).get("/customers/bulk/changes/").content.decode()  # managers see all


def test_removing_a_tag_chip_offers_to_put_it_back(web_as, mia):
    vip = TagFactory(slug="vip")
    ann = CustomerFactory(tags=[vip])
    client = web_as(mia)
    fragment = client.post(f"/customers/{ann.pk}/tags/", {"tag": "vip", "op": "remove"},
                           HTTP_HX_REQUEST="true").content.decode()
    assert "Tag vip removed." in fragment and "data-undo-remove" in fragment
    client.post(f"/customers/{ann.pk}/tags/", {"tag": "vip"}, HTTP_HX_REQUEST="true")  # the Undo button's post
    assert Tag.objects.get(slug="vip").customers.get() == ann
