"""The customer list answered from the audience index equals the SQL filter, in every order it serves."""

import random
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from customers.filters import CustomerFilter
from customers.listing import IndexedCustomers, listed_customers
from customers.models import Customer, LifecycleStage
from customers.selectors import customers_visible_to
from customers.services import add_tag
from segments import engine
from tests.factories import BranchFactory, CustomerFactory, TagFactory

ORDERS = ["id", "-id", "assets", "-assets", "branch__code", "-branch__code", "owner__username", "-owner__username",
          "lifecycle_stage", "-lifecycle_stage", "risk_level", "-risk_level"]
FILTERS = ["", "tag=gold", "tag=gold&tag=app", "branch=NORTH", "owner=alice", "lifecycle_stage=growth",
           "risk_level=3", "assets_min=5000", "assets_max=20000.50", "assets_min=1000&assets_max=1000",
           "tag=app&branch=SOUTH&assets_min=100", "search=Zhang", "search=C000007", "search=1390",
           "search=MIXED@Example.com", "tag=gold&search=Li", "risk_level=9", "owner=nobody", "tag=nosuch"]
INVALID = {"risk_level=9", "owner=nobody", "tag=nosuch"}  # list nobody (CustomerFilter.qs), never everyone


def _key(customer, accessor):
    value = customer
    for part in accessor.lstrip("-").split("__"):
        value = getattr(value, part) if value is not None else None
    return value


@pytest.fixture
def crowd(db, alice, bob):
    rng = random.Random(11)
    gold, app, _rare = TagFactory(slug="gold"), TagFactory(slug="app"), TagFactory(slug="rare")
    branches = [BranchFactory(code="NORTH"), BranchFactory(code="SOUTH"), None]
    names = ["Zhang Wei", "Li Na", "Liu Yang", "Wang Fang", "Chen Jie", ""]
    for number in range(90):
        customer = CustomerFactory(
            name=rng.choice(names), branch=rng.choice(branches), owner=rng.choice([alice, bob, None]),
            phone=rng.choice(["13900000001", "13800000002", "1390555", ""]),
            email="mixed@example.com" if number == 5 else "",
            lifecycle_stage=rng.choice(LifecycleStage.values), risk_level=rng.choice([None, 1, 2, 3, 4, 5]),
            assets=rng.choice([Decimal("0"), Decimal("1000"), Decimal("20000.50"), Decimal(rng.randint(1, 99999))]))
        for tag in (gold, app):
            if rng.random() < 0.4:
                add_tag(tag=tag, customers=Customer.objects.filter(pk=customer.pk))


def _listed(query, user):
    return listed_customers(CustomerFilter(QueryDict(query), queryset=customers_visible_to(user)), user)


def _oracle(query, user, accessor):
    rows = CustomerFilter(QueryDict(query), queryset=customers_visible_to(user)).qs
    field = F(accessor.lstrip("-"))
    ordering = field.desc(nulls_first=True) if accessor.startswith("-") else field.asc(nulls_last=True)
    return list(rows.order_by(ordering, "id"))


@pytest.mark.parametrize("query", FILTERS)
def test_every_filter_and_order_matches_the_sql_list(crowd, mia, alice, query):
    for user in (mia, alice):
        listed = _listed(query, user)
        if query in INVALID:
            assert listed.count() == 0 and not _oracle(query, user, "id")
            continue
        assert isinstance(listed, IndexedCustomers)  # the index answered
        for accessor in ORDERS:
            expected = _oracle(query, user, accessor)
            ordered = listed.order_by(accessor)
            assert ordered.count() == len(expected), (query, accessor)
            pages = [customer for start in range(0, ordered.count() + 7, 7) for customer in ordered[start:start + 7]]
            assert [_key(c, accessor) for c in pages] == [_key(c, accessor) for c in expected], (query, accessor)
            assert sorted(c.pk for c in pages) == sorted(c.pk for c in expected), (query, accessor)
            if accessor.lstrip("-") == "id":
                assert [c.pk for c in pages] == [c.pk for c in expected]


def test_an_account_manager_lists_only_her_own(crowd, alice):
    listed = _listed("", alice)
    assert listed.count() == Customer.objects.filter(owner=alice).count() > 0
    assert {customer.owner_id for customer in listed} == {alice.pk}


def test_a_text_order_goes_the_sql_way_with_the_same_rows(crowd, mia):
    listed = _listed("tag=gold", mia).order_by("-name")
    assert not isinstance(listed, IndexedCustomers)
    assert list(listed.values_list("pk", flat=True)) == list(
        CustomerFilter(QueryDict("tag=gold"), queryset=Customer.objects.all()).qs.order_by("-name")
        .values_list("pk", flat=True))


def test_without_an_index_the_list_answers_by_sql(crowd, mia, web_as):
    engine.reset()  # a fresh process: no index yet, and this setting builds none in the background
    listed = _listed("tag=gold", mia)
    assert not isinstance(listed, IndexedCustomers)
    page = web_as(mia).get("/customers/?tag=gold").content.decode()
    count = Customer.objects.filter(tag_links__tag__slug="gold").count()
    assert f"{count} customers" in page
    assert engine._index.position is None  # the page did not build one


def test_a_new_tag_is_listed_at_once(crowd, mia, web_as):
    customer = Customer.objects.exclude(tag_links__tag__slug="rare").first()
    client = web_as(mia)
    assert customer.external_id not in client.get("/customers/?tag=rare").content.decode()
    add_tag(tag=TagFactory(slug="rare"), customers=Customer.objects.filter(pk=customer.pk))
    page = client.get("/customers/?tag=rare").content.decode()
    assert customer.external_id in page and "1 customer" in page


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_queries_per_page_do_not_grow_with_the_customers(mia, web_as, api_as):
    tag = TagFactory(slug="gold")
    for _ in range(5):
        CustomerFactory(tags=[tag])
    page, api = web_as(mia), api_as(mia)
    _queries(page, "/customers/"), _queries(api, "/api/v1/customers/")  # sessions, caches
    CustomerFactory(tags=[tag])  # each measurement below patches the index once
    few = (_queries(page, "/customers/?tag=gold&sort=-assets"), _queries(api, "/api/v1/customers/?tag=gold"))
    for _ in range(60):
        CustomerFactory(tags=[tag])
    many = (_queries(page, "/customers/?tag=gold&sort=-assets&page=2"), _queries(api, "/api/v1/customers/?tag=gold&page=2"))
    assert many == few


def test_api_list_matches_the_sql_filter(crowd, mia, api_as):
    client = api_as(mia)
    for query in [query for query in FILTERS if not any(bad in query for bad in ("=9", "nobody", "nosuch"))]:
        response = client.get(f"/api/v1/customers/?{query}&page_size=500")
        assert response.status_code == 200, (query, response.content)
        expected = [customer.pk for customer in _oracle(query, mia, "id")]
        assert [row["id"] for row in response.json()["results"]] == expected, query
        assert response.json()["count"] == len(expected)


def test_api_list_refuses_a_bad_filter_with_the_field(mia, api_as):
    response = api_as(mia).get("/api/v1/customers/?risk_level=abc")
    assert response.status_code == 400 and "risk_level" in response.json()


def test_sorting_by_branch_survives_a_deleted_branch(crowd, mia):
    from accounts.models import Branch

    listed = _listed("", mia)
    listed.order_by("branch__code")[0:5]  # the index knows NORTH
    north, south = Branch.objects.get(code="NORTH"), Branch.objects.get(code="SOUTH")
    Customer.objects.filter(branch=north).update(branch=south)  # NORTH's bitmap is now empty, its key kept
    north.delete()
    ordered = _listed("", mia).order_by("-branch__code")
    assert [_key(c, "-branch__code") for c in ordered[0:200]] == [
        _key(c, "-branch__code") for c in _oracle("", mia, "-branch__code")]
