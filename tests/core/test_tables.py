"""Every table page keeps ?per_page= within bounds: a huge, negative or non-numeric value, or a page
number out of range, is a normal page — never a 500 or a minute-long query."""

import pytest

from core.tables import MAX_PER_PAGE, page_size
from tests.factories import CampaignFactory, CustomerFactory, TagFactory, TaskFactory

pytestmark = pytest.mark.django_db

BAD = ["99999999999999999999999", "-1", "0", "abc", "1e9", ""]


@pytest.fixture
def pages(mia, alice):
    campaign = CampaignFactory(owner=mia, status="running")
    for _n in range(3):
        TaskFactory(campaign=campaign, assignee=alice, customer=CustomerFactory(owner=alice))
    TagFactory(slug="vip")
    return {mia: ["/customers/", "/customers/tags/", "/campaigns/", f"/campaigns/{campaign.pk}/tasks/"],
            alice: ["/campaigns/my-tasks/", "/customers/"]}


def test_page_sizes_stay_within_bounds():
    assert page_size("99999999999999999999999", 50) == MAX_PER_PAGE
    assert (page_size("-1", 50), page_size("0", 50), page_size("abc", 50), page_size(None, 50)) == (1, 1, 50, 50)
    assert page_size("25", 50) == 25


def test_every_table_page_answers_bad_page_sizes_and_numbers(pages, web_as):
    for user, paths in pages.items():
        client = web_as(user)
        for path in paths:
            for value in BAD:
                answer = client.get(path, {"per_page": value})
                assert answer.status_code == 200, (user.username, path, value)
            for page in ("999999999999999999", "-3", "x"):
                assert client.get(path, {"page": page}).status_code == 200, (user.username, path, page)


def test_a_huge_page_size_shows_at_most_the_maximum(mia, web_as):
    from customers.models import Customer

    Customer.objects.bulk_create([Customer(external_id=f"P{n:04d}", name=f"P {n}") for n in range(MAX_PER_PAGE + 5)])
    answer = web_as(mia).get("/customers/", {"per_page": "99999999999999999999999"})
    assert answer.status_code == 200
    assert len(answer.context["table"].page.object_list) == MAX_PER_PAGE
