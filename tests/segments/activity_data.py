"""A random activity history for the engine tests, and the plain-Python meaning of each behaviour
condition over it — a third evaluation beside the engine and the naive SQL."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from activity.models import Event, Holding, Transaction
from tests.factories import ProductFactory

PRODUCTS = {"FUND-A": "fund", "FUND-B": "fund", "DEP-1": "deposit", "BOND-7": "bond"}
EVENTS = ["login", "login_failed", "product_view"]
KINDS = ["buy", "buy", "redeem", "sell", "deposit", "withdraw", "trade"]


def make_activity(customer_ids: list[int], *, seed: int, today: date) -> dict[int, dict]:
    """Write transactions, events and holdings snapshots; return per customer what was written."""
    rng = random.Random(seed)
    zone = ZoneInfo(settings.TIME_ZONE)
    products = {code: ProductFactory(code=code, type=kind) for code, kind in PRODUCTS.items()}
    transactions, events, holdings = [], [], []
    history = {pk: {"transactions": [], "events": [], "snapshots": {}} for pk in customer_ids}
    for customer in customer_ids:
        if rng.random() < 0.25:
            continue  # some customers have done nothing at all
        for number in range(rng.randint(0, 8)):
            # Ages cluster around the window edges (29–31 days, 6–8 days), where off-by-one errors live.
            age = rng.choice([0, 1, 6, 7, 8, 29, 30, 31, 45, 89, 90, 91, 200, 400])
            day = today - timedelta(days=age)
            kind = rng.choice(KINDS)
            code = rng.choice(list(PRODUCTS)) if kind in ("buy", "redeem", "sell") or rng.random() < 0.3 else None
            amount = Decimal(rng.choice([0, 10, 99.5, 1000, 25_000])).quantize(Decimal("0.01"))
            at = datetime.combine(day, time(rng.choice([0, 9, 23]), 30), tzinfo=zone)
            transactions.append(Transaction(
                external_id=f"T{seed}-{customer}-{number}", customer_id=customer,
                product=products[code] if code else None, kind=kind, amount=amount, occurred_at=at, occurred_on=day))
            history[customer]["transactions"].append({"kind": kind, "code": code, "type": PRODUCTS.get(code),
                                                      "day": day, "amount": amount})
        for number in range(rng.randint(0, 6)):
            day = today - timedelta(days=rng.choice([0, 2, 6, 7, 8, 30, 100, 364, 365, 366]))
            kind = rng.choice(EVENTS)
            events.append(Event(external_id=f"E{seed}-{customer}-{number}", customer_id=customer, type=kind,
                                occurred_at=datetime.combine(day, time(12), tzinfo=zone), occurred_on=day))
            history[customer]["events"].append({"type": kind, "day": day})
        for age in rng.sample([0, 5, 29, 30, 31, 60, 120], rng.randint(0, 3)):
            day = today - timedelta(days=age)
            for code in rng.sample(list(PRODUCTS), rng.randint(1, 3)):
                amount = Decimal(rng.choice([0, 100, 1000, 5000]))
                holdings.append(Holding(customer_id=customer, product=products[code], as_of=day, amount=amount))
                history[customer]["snapshots"].setdefault(day, {})[code] = amount
    Transaction.objects.bulk_create(transactions)
    Event.objects.bulk_create(events)
    Holding.objects.bulk_create(holdings)
    return history


def behaviour_matches(history: dict, node: dict, today: date) -> bool:
    """The meaning of a behaviour condition, written out plainly (windows: the N days ending today)."""
    def within(day, days):
        return days is None or day >= today - timedelta(days=days - 1)

    if node["activity"] == "bought":
        return any(item["kind"] == "buy" and within(item["day"], node.get("days"))
                   and (item["code"] == node.get("product") if "product" in node else item["type"] == node["product_type"])
                   for item in history["transactions"])
    if node["activity"] == "holds":
        if not history["snapshots"]:
            return False
        latest = history["snapshots"][max(history["snapshots"])]
        return latest.get(node["product"], 0) > 0
    count = sum(1 for item in history["events"] if item["type"] == node["event"] and within(item["day"], node["days"]))
    return _compare(count, node["op"], node["value"])


def behaviour_field(history: dict, name: str, today: date):
    """recency_days, trades_30d, amount_30d, asset_change_30d of one customer (None: no value)."""
    transactions = history["transactions"]
    if name == "recency_days":
        return (today - max(item["day"] for item in transactions)).days if transactions else None
    recent = [item for item in transactions if item["day"] >= today - timedelta(days=29)]
    if name == "trades_30d":
        return len(recent)
    if name == "amount_30d":
        return float(sum((item["amount"] for item in recent), Decimal(0)))
    snapshots = history["snapshots"]
    base_day = today - timedelta(days=30)
    before = [day for day in snapshots if day <= base_day]
    if not snapshots or not before or max(snapshots) <= base_day:
        return None
    base = float(sum(snapshots[max(before)].values()))
    latest = float(sum(snapshots[max(snapshots)].values()))
    return (latest - base) / base if base > 0 else None


def _compare(actual, op, value) -> bool:
    return {"eq": actual == value, "ne": actual != value, "lt": actual < value, "lte": actual <= value,
            "gt": actual > value, "gte": actual >= value}[op]
