"""The rules endpoint and page over real holdings and purchases, checked against pandas over the
tables; the one-click audience and draft campaign."""

from datetime import timedelta
from itertools import combinations
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from django.utils import timezone

from activity.models import Holding, Transaction
from segments.services import audience_for
from tests.factories import BranchFactory, CustomerFactory, ProductFactory
from tests.recommendations.data import book


@pytest.fixture
def holdings(db):
    for code, kind in [("DEP-1", "deposit"), ("BOND-1", "bond"), ("FUND-A", "fund"), ("FUND-B", "fund")]:
        ProductFactory(code=code, type=kind, risk_level=1)
    north, south = BranchFactory(code="N01"), BranchFactory(code="S01")
    book([(30, ("DEP-1", "BOND-1")), (10, ("DEP-1",)), (15, ("FUND-A", "FUND-B")), (5, ("FUND-A",))], branch=north)
    book([(20, ("FUND-A", "FUND-B", "DEP-1")), (10, ("BOND-1",))], branch=south)
    return north, south


def _pandas_pair_rules(frame: pd.DataFrame, min_support: float, min_confidence: float) -> dict:
    """Rules of one item → one item straight from a (customer, code) frame."""
    baskets = frame.groupby("customer")["code"].apply(set)
    total = len(baskets)
    support = lambda items: sum(1 for basket in baskets if items <= basket) / total  # noqa: E731
    codes = sorted(frame["code"].unique())
    rules = {}
    for a, c in [(a, c) for a, c in combinations(codes, 2)] + [(c, a) for a, c in combinations(codes, 2)]:
        both = support({a, c})
        if both >= min_support and both / support({a}) >= min_confidence:
            rules[(a, c)] = (both, both / support({a}), both / support({a}) / support({c}))
    return rules


def test_rules_over_holdings_match_pandas_over_the_table(holdings, api_as, mia):
    response = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.05&min_confidence=0.3&max_items=2")
    assert response.status_code == 200
    ours = {(rule["antecedent"][0], rule["consequent"][0]): (rule["support"], rule["confidence"], rule["lift"])
            for rule in response.json()}
    frame = pd.DataFrame(list(Holding.objects.filter(amount__gt=0).values_list("customer_id", "product__code")),
                         columns=["customer", "code"])
    expected = _pandas_pair_rules(frame, 0.05, 0.3)
    assert ours.keys() == expected.keys() and len(ours) >= 6
    for key, figures in expected.items():
        assert ours[key] == pytest.approx(figures, abs=1e-6)
    first = response.json()[0]
    assert set(first) >= {"antecedent", "consequent", "support", "confidence", "lift", "customers"}


def test_the_audience_of_a_rule_selects_its_opportunity(holdings, api_as, mia):
    rules = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.05&min_confidence=0.1").json()
    rule = next(rule for rule in rules if rule["antecedent"] == ["DEP-1"] and rule["consequent"] == ["FUND-A"])
    assert rule["audience"] == "holds(DEP-1) AND NOT holds(FUND-A)"
    assert audience_for(text=rule["audience"])[1].count == rule["opportunity"] == 40
    for every in rules:  # multi-product sides too: NOT (holds(C1) AND holds(C2))
        assert audience_for(text=every["audience"])[1].count == every["opportunity"], every
    assert any(len(every["antecedent"]) + len(every["consequent"]) == 3 for every in rules)


def test_a_branch_and_a_type_narrow_the_scope(holdings, api_as, mia):
    rules = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.01&min_confidence=0.01&branch=N01").json()
    north_rule = next(rule for rule in rules if rule["antecedent"] == ["DEP-1"] and rule["consequent"] == ["BOND-1"])
    assert north_rule["confidence"] == pytest.approx(30 / 40) and north_rule["support"] == pytest.approx(30 / 60)
    pairs = {(rule["antecedent"][0], rule["consequent"][0]) for rule in rules if len(rule["antecedent"]) == 1}
    assert ("DEP-1", "FUND-A") not in pairs  # held together only in the south
    funds = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.01&min_confidence=0.01"
                            "&product_type=fund").json()
    assert {code for rule in funds for code in rule["antecedent"] + rule["consequent"]} == {"FUND-A", "FUND-B"}


def test_rules_over_recent_purchases(db, api_as, mia):
    fund, bond = ProductFactory(code="FUND-A"), ProductFactory(code="BOND-1")
    now = timezone.now()
    for number in range(20):
        customer = CustomerFactory()
        for product, age in ((fund, 3), (bond, 5 if number < 15 else 60)):
            Transaction.objects.create(external_id=f"t{number}-{product.code}", customer=customer, product=product,
                                       kind="buy", amount=100, occurred_at=now - timedelta(days=age),
                                       occurred_on=(now - timedelta(days=age)).date())
    recent = api_as(mia).get("/api/v1/recommendations/rules/?basis=purchases&days=30&min_support=0.1"
                             "&min_confidence=0.1").json()
    rule = next(rule for rule in recent if rule["antecedent"] == ["FUND-A"])
    assert rule["confidence"] == pytest.approx(15 / 20) and rule["audience"] == "bought(FUND-A, 30d) AND NOT holds(BOND-1)"
    ever = api_as(mia).get("/api/v1/recommendations/rules/?basis=purchases&min_support=0.1&min_confidence=0.1").json()
    assert next(rule for rule in ever if rule["antecedent"] == ["FUND-A"])["confidence"] == 1.0


@pytest.mark.parametrize("query, field", [
    ("min_support=0", "min_support"), ("min_support=abc", "min_support"), ("min_confidence=2", "min_confidence"),
    ("basis=moods", "basis"), ("days=30", "days"), ("branch=NOPE", "branch"), ("max_items=9", "max_items"),
    ("product_type=cars", "product_type")])
def test_bad_thresholds_are_a_400_naming_the_field(db, api_as, mia, query, field):
    response = api_as(mia).get(f"/api/v1/recommendations/rules/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_the_page_links_each_rule_to_an_audience_and_a_draft_campaign(holdings, web_as, mia):
    client = web_as(mia)
    html = client.get("/recommendations/rules/?min_support=0.05&min_confidence=0.3").content.decode()
    assert "data-rule" in html and "holds(DEP-1)" in html
    response = client.get("/recommendations/rules/?min_support=0.05&min_confidence=0.3")
    rule = next(row for row in response.context["rows"]
                if row["antecedent"] == ["DEP-1"] and row["consequent"] == ["BOND-1"])
    builder = client.get(rule["audience_url"]).content.decode()
    assert "holds(DEP-1) AND NOT holds(BOND-1)" in builder
    query = parse_qs(urlparse(rule["campaign_url"]).query)
    assert query["products"] == ["BOND-1"] and query["text"] == ["holds(DEP-1) AND NOT holds(BOND-1)"]
    form = client.get(rule["campaign_url"]).context["form"]
    assert form.initial["text"] == "holds(DEP-1) AND NOT holds(BOND-1)"
    assert [product.code for product in form.initial["products"]] == ["BOND-1"]


def test_a_bad_threshold_on_the_page_is_shown_not_computed(db, web_as, mia):
    response = web_as(mia).get("/recommendations/rules/?min_support=-1")
    assert response.status_code == 200 and response.context["found"] is None
    assert response.context["form"].errors["min_support"]


def test_a_minimum_lift_drops_negative_associations_and_the_page_starts_at_one(holdings, api_as, web_as, mia):
    every = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.01&min_confidence=0.01").json()
    assert any(rule["lift"] < 1 for rule in every)  # the API's default: the definitions, unfiltered
    strong = api_as(mia).get("/api/v1/recommendations/rules/?min_support=0.01&min_confidence=0.01&min_lift=1").json()
    assert strong == [rule for rule in every if rule["lift"] >= 1]
    rows = web_as(mia).get("/recommendations/rules/?min_support=0.01&min_confidence=0.01").context["rows"]
    assert rows and all(row["lift"] >= 1 for row in rows)


def test_a_purchase_rules_opportunity_is_what_its_audience_selects(db, api_as, mia):
    """Bought A and C, but holds C no more: the rule counts the purchase, the audience (NOT holds(C))
    still offers C — and the rule's opportunity says so."""
    fund, bond = ProductFactory(code="FUND-A"), ProductFactory(code="BOND-1")
    now = timezone.now()
    for number in range(12):
        customer = CustomerFactory()
        for product in (fund, bond) if number < 9 else (fund,):
            Transaction.objects.create(external_id=f"p{number}-{product.code}", customer=customer, product=product,
                                       kind="buy", amount=100, occurred_at=now, occurred_on=now.date())
        if number < 4:
            book_holding = Holding(customer=customer, product=bond, as_of=now.date(), amount=100)
            book_holding.save()
    rules = api_as(mia).get("/api/v1/recommendations/rules/?basis=purchases&min_support=0.1&min_confidence=0.1"
                            "&max_items=3").json()
    for rule in rules:
        assert rule["opportunity"] == audience_for(text=rule["audience"])[1].count, rule
    rule = next(rule for rule in rules if rule["antecedent"] == ["FUND-A"] and rule["consequent"] == ["BOND-1"])
    assert rule["opportunity"] == 12 - 4 and rule["customers"] == 9
