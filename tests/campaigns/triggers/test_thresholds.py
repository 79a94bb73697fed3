"""Threshold changes on activity (maturing, a heavy holding's loss, assets down, trading frequency):
who meets each, against a computation in plain Python over the rows written; and a rule that fires
for a customer crossing one."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from activity.models import Holding, Product, Transaction
from campaigns.models import Task
from campaigns.triggers import services, thresholds
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 15)


@pytest.fixture
def activity():
    """40 customers with random snapshots over 80 days, random products (some maturing soon), and trades."""
    rng = random.Random(7)
    products = [ProductFactory(code=f"T{number}", maturity_date=TODAY + timedelta(days=rng.randint(-20, 60)))
                for number in range(6)]
    products[0].maturity_date, products[1].maturity_date = TODAY + timedelta(days=3), TODAY + timedelta(days=20)
    Product.objects.bulk_update(products[:2], ["maturity_date"])
    customers = [CustomerFactory() for _ in range(40)]
    holdings, trades = [], []
    for customer in customers:
        days = sorted({TODAY - timedelta(days=rng.randint(0, 80)) for _ in range(rng.randint(1, 5))})
        held = rng.sample(products, rng.randint(1, 3))
        for day in days:
            for product in held if rng.random() < 0.8 else held[:1]:
                amount = Decimal(rng.choice([0, 5_000, 50_000, 120_000, 300_000])) * Decimal(rng.uniform(0.3, 1.2))
                holdings.append(Holding(customer=customer, product=product, as_of=day, amount=amount.quantize(Decimal("0.01"))))
        for number in range(rng.randint(0, 14)):
            day = TODAY - timedelta(days=rng.randint(0, 70))
            trades.append(Transaction(external_id=f"x{customer.pk}-{number}", customer=customer, product=held[0],
                                      kind="buy", amount=100, occurred_on=day,
                                      occurred_at=datetime.combine(day, time(10), tzinfo=timezone.get_current_timezone())))
    Holding.objects.bulk_create(holdings)
    Transaction.objects.bulk_create(trades)
    return customers


def snapshots():
    by_customer: dict[int, dict[date, dict[int, Decimal]]] = {}
    for row in Holding.objects.all():
        by_customer.setdefault(row.customer_id, {}).setdefault(row.as_of, {})[row.product_id] = row.amount
    return by_customer


def latest_on_or_before(days: dict, day: date):
    eligible = [each for each in days if each <= day]
    return max(eligible) if eligible else None


def expected(threshold: dict) -> set[int]:
    kind, found = threshold["kind"], set()
    if kind == "trading_change":
        days = threshold["days"]
        for customer in {row.customer_id for row in Transaction.objects.all()} | set():
            on = [row.occurred_on for row in Transaction.objects.filter(customer_id=customer)]
            recent = sum(TODAY - timedelta(days=days - 1) <= day <= TODAY for day in on)
            earlier = sum(TODAY - timedelta(days=2 * days - 1) <= day < TODAY - timedelta(days=days - 1) for day in on)
            if threshold["direction"] == "down":
                hit = earlier >= threshold["min_trades"] and recent <= earlier * (1 - threshold["pct"] / 100)
            else:
                hit = recent >= threshold["min_trades"] and recent >= earlier * (1 + threshold["pct"] / 100)
            if hit:
                found.add(customer)
        return found
    maturity = dict(Product.objects.values_list("pk", "maturity_date"))
    for customer, days in snapshots().items():
        now_day = latest_on_or_before(days, TODAY)
        if now_day is None:
            continue
        if kind == "maturing":
            if any(amount > 0 and TODAY <= maturity[product] <= TODAY + timedelta(days=threshold["days"])
                   for product, amount in days[now_day].items()):
                found.add(customer)
            continue
        base_day = latest_on_or_before(days, TODAY - timedelta(days=threshold["days"]))
        if base_day is None or base_day >= now_day:
            continue
        now, base, pct = days[now_day], days[base_day], Decimal(str(threshold["pct"]))
        if kind == "asset_drop":
            if sum(base.values()) > 0 and sum(now.values()) * 100 <= sum(base.values()) * (100 - pct):
                found.add(customer)
        elif any(amount > 0 and amount >= threshold["min_amount"] and product in now
                 and now[product] * 100 <= amount * (100 - pct) for product, amount in base.items()):
            found.add(customer)
    return found


@pytest.mark.parametrize("threshold", [
    {"kind": "maturing", "days": 7}, {"kind": "maturing", "days": 30},
    {"kind": "holding_loss", "days": 30, "pct": 20, "min_amount": 100_000},
    {"kind": "holding_loss", "days": 14, "pct": 50},
    {"kind": "asset_drop", "days": 30, "pct": 30}, {"kind": "asset_drop", "days": 60, "pct": 10},
    {"kind": "trading_change", "days": 30, "pct": 50}, {"kind": "trading_change", "days": 14, "pct": 100,
                                                        "direction": "up", "min_trades": 2},
])
def test_threshold_members_equal_a_plain_computation(activity, threshold):
    checked = thresholds.check_threshold(threshold)
    found = set(thresholds.members(checked, TODAY))
    assert found == expected(checked)
    assert found, "the generated data should put someone over every threshold tested"


@pytest.mark.parametrize(("threshold", "problem"), [
    ({"kind": "soon"}, "kind"), ({"kind": "maturing"}, "days"), ({"kind": "maturing", "days": 0}, "days"),
    ({"kind": "asset_drop", "days": 30, "pct": 130}, "pct"), ({"kind": "maturing", "days": 7, "pct": 3}, "pct"),
    ({"kind": "trading_change", "days": 7, "pct": 20, "direction": "sideways"}, "direction"),
])
def test_a_bad_threshold_is_refused_through_the_api_naming_it(api_as, mia, threshold, problem):
    response = api_as(mia).post("/api/v1/triggers/", {"name": "Bad", "threshold": threshold, "action": "alert"},
                                format="json")
    assert response.status_code == 400 and problem in " ".join(response.json()["threshold"])


def test_a_maturity_rule_fires_once_for_a_customer_whose_product_comes_within_reach(api_as, mia, alice):
    product = ProductFactory(code="CD90", maturity_date=timezone.localdate() + timedelta(days=20))
    customer = CustomerFactory(owner=alice)
    Holding.objects.create(customer=customer, product=product, as_of=timezone.localdate(), amount=80_000)
    response = api_as(mia).post("/api/v1/triggers/", {"name": "Maturing soon", "threshold": {"kind": "maturing", "days": 14},
                                                      "script": "Offer the reinvestment."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["threshold"] == {"kind": "maturing", "days": 14}
    assert services.check_condition_rules() == 0  # the first look notes who is in it: nobody
    product.maturity_date = timezone.localdate() + timedelta(days=10)
    product.save()
    assert services.check_condition_rules() == 1
    assert services.check_condition_rules() == 0
    task = Task.objects.get()
    assert (task.customer, task.assignee, task.trigger_id) == (customer, alice, response.json()["id"])
    assert task.due_at is not None and task.due_at > timezone.now()


def test_changing_a_rule_s_threshold_fires_nobody_for_the_change_itself(mia, alice):
    product = ProductFactory(code="CD30", maturity_date=timezone.localdate() + timedelta(days=20))
    customer = CustomerFactory(owner=alice)
    Holding.objects.create(customer=customer, product=product, as_of=timezone.localdate(), amount=80_000)
    rule = services.save_rule(by=mia, name="Maturing", threshold={"kind": "maturing", "days": 7})
    assert services.check_condition_rules() == 0
    services.save_rule(by=mia, rule=rule, threshold={"kind": "maturing", "days": 30})  # now the customer is in it
    assert services.check_condition_rules() == 0 and not Task.objects.exists()
