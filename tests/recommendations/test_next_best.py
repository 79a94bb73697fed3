"""The next best product: item-based similarity over everyone's holdings, never unsuitable, never a
product held or off sale, and a reason whose numbers count the database."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from activity.models import Holding, ProductStatus
from recommendations.item_model import ItemModel, cosine
from recommendations.selectors import next_best
from tests.factories import CustomerFactory, ProductFactory
from tests.recommendations.data import book, hold


@pytest.fixture
def products(db):
    return {code: ProductFactory(code=code, risk_level=level, type=kind) for code, level, kind in [
        ("DEP-1", 1, "deposit"), ("BOND-1", 2, "bond"), ("FUND-A", 3, "fund"), ("FUND-B", 3, "fund"),
        ("STOCK-X", 5, "stock")]}


def _holders(code: str) -> set[int]:
    latest = {}
    for customer, day in Holding.objects.values_list("customer_id", "as_of"):
        latest[customer] = max(day, latest.get(customer, day))
    return {customer for customer, day in Holding.objects.filter(product__code=code, amount__gt=0)
            .values_list("customer_id", "as_of") if latest[customer] == day}


def test_the_reason_counts_the_database(products):
    book([(40, ("DEP-1", "BOND-1", "FUND-A")), (20, ("DEP-1", "BOND-1")), (30, ("FUND-B",)), (10, ("DEP-1",))],
         risk_level=3)
    customer = CustomerFactory(risk_level=3)
    hold(customer, "DEP-1", "BOND-1")
    found = next_best(customer)
    assert found[0]["product"] == "FUND-A" and found[0]["basis"] == "similar"
    both = _holders("DEP-1") & _holders("BOND-1")
    also = both & _holders("FUND-A")
    held = {"DEP-1": _holders("DEP-1"), "BOND-1": _holders("BOND-1"), "FUND-A": _holders("FUND-A")}
    similarity = {code: len(held[code] & held["FUND-A"]) / math.sqrt(len(held[code]) * len(held["FUND-A"]))
                  for code in ("DEP-1", "BOND-1")}
    strongest = sorted(similarity, key=similarity.get, reverse=True)  # BOND-1: fewer others hold it
    assert found[0]["evidence"] == {"held": strongest, "customers": len(both), "also": len(also)}
    assert found[0]["reason"] == (f"Customers holding {strongest[0]} and {strongest[1]} also hold FUND-A: "
                                  f"{len(also) / len(both):.0%} of {len(both):,}.")
    assert found[0]["score"] == pytest.approx(sum(similarity.values()), abs=1e-4)


def test_a_customer_holding_nothing_gets_the_most_held_suitable_products(products):
    book([(5, ("FUND-A",)), (3, ("DEP-1",)), (8, ("STOCK-X",))], risk_level=5)
    customer = CustomerFactory(risk_level=3)
    found = next_best(customer)
    assert [item["product"] for item in found] == ["FUND-A", "DEP-1"]  # STOCK-X is R5; others held by no one
    assert {item["basis"] for item in found} == {"popular"}
    assert found[0]["evidence"]["also"] == 5 and found[0]["evidence"]["customers"] == 16


def test_a_new_holding_changes_the_answer_at_once(products):
    book([(10, ("DEP-1", "FUND-A")), (10, ("DEP-1", "BOND-1"))], risk_level=3)
    customer = CustomerFactory(risk_level=3)
    hold(customer, "DEP-1")
    first = {item["product"] for item in next_best(customer)}
    assert {"FUND-A", "BOND-1"} <= first
    hold(customer, "DEP-1", "FUND-A", day=Holding.objects.latest("as_of").as_of + __import__("datetime").timedelta(1))
    assert "FUND-A" not in {item["product"] for item in next_best(customer)}


def test_suitability_holdings_and_status_are_never_violated(db):
    """A property over a random book: 30 products of random risk and status, 300 customers of random
    risk level (some unassessed), random holdings; every suggestion of every customer obeys the rules."""
    rng = random.Random(7)
    products = [ProductFactory(code=f"P{number:02d}", risk_level=rng.randint(1, 5),
                               status=rng.choice([ProductStatus.ON_SALE] * 3 + [ProductStatus.SUSPENDED,
                                                                                ProductStatus.CLOSED]))
                for number in range(30)]
    customers = []
    for _ in range(300):
        customer = CustomerFactory(risk_level=rng.choice([None, 1, 2, 3, 4, 5]))
        held = rng.sample(products, rng.randint(0, 5))
        if held:
            hold(customer, *(product.code for product in held))
        customers.append((customer, {product.code for product in held}))
    by_code = {product.code: product for product in products}
    suggested = 0
    for customer, held in customers:
        for item in next_best(customer, limit=20):
            product = by_code[item["product"]]
            assert product.risk_level <= (customer.risk_level or 1), (customer.risk_level, item)
            assert product.status == ProductStatus.ON_SALE and product.code not in held
            suggested += 1
    assert suggested > 500  # the property was exercised, not vacuous


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), max_size=5), min_size=1, max_size=60), st.sets(st.integers(0, 7)))
def test_scores_are_the_sum_of_cosines_to_what_is_held(baskets, held):
    items = {item: BitMap(row for row, basket in enumerate(baskets) if item in basket) for item in range(8)}
    items = {item: members for item, members in items.items() if members}
    model = ItemModel(items)
    held = sorted(item for item in held if item in items)
    for suggestion in model.suggest(held, sorted(items), limit=8):
        assert suggestion.item not in held
        if suggestion.basis == "similar":
            expected = sum(cosine(items[item], items[suggestion.item]) for item in held)
            assert suggestion.score == pytest.approx(round(expected, 4), abs=1e-9)
            assert suggestion.evidence.also <= suggestion.evidence.base


def test_an_updated_model_reuses_unchanged_pairs_and_recounts_changed_ones():
    rng = np.random.default_rng(3)
    items = {item: BitMap(rng.choice(5000, 800, replace=False).tolist()) for item in range(6)}
    model = ItemModel(items)
    assert model.updated({item: BitMap(members) for item, members in items.items()}) is model
    changed = dict(items)
    changed[2] = items[2] | BitMap(range(4000, 4500))
    fresh = model.updated(changed)
    assert fresh is not model
    assert np.array_equal(fresh.together, ItemModel(changed).together)


def test_the_api_answers_for_visible_customers_only(products, api_as, alice, bob):
    book([(5, ("DEP-1", "FUND-A"))], risk_level=3)
    own = CustomerFactory(owner=alice, risk_level=3)
    hold(own, "DEP-1")
    response = api_as(alice).get(f"/api/v1/customers/{own.pk}/next-best/")
    assert response.status_code == 200
    first = response.json()[0]
    assert set(first) >= {"product", "score", "reason"} and first["product"] == "FUND-A"
    assert api_as(bob).get(f"/api/v1/customers/{own.pk}/next-best/").status_code == 404
    assert api_as(alice).get(f"/api/v1/customers/{own.pk}/next-best/?limit=0").status_code == 400
    assert api_as(alice).get(f"/api/v1/customers/{own.pk}/next-best/?limit=x").json()["limit"]


def test_the_panel_shows_on_the_customer_page_and_in_the_work_view(products, web_as, alice):
    from tests.factories import TaskFactory

    book([(5, ("DEP-1", "FUND-A"))], risk_level=3)
    own = CustomerFactory(owner=alice, risk_level=3)
    hold(own, "DEP-1")
    client = web_as(alice)
    panel = f"/recommendations/customers/{own.pk}/next-best/"
    assert panel in client.get(f"/customers/{own.pk}/").content.decode()
    task = TaskFactory(customer=own, assignee=alice)
    assert panel in client.get(f"/campaigns/my-tasks/work/?task={task.pk}").content.decode()
    html = client.get(panel).content.decode()
    assert 'data-product="FUND-A"' in html and "Customers holding DEP-1 also hold FUND-A" in html
