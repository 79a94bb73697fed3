"""The check behind conftest's `audience_index_stays_exact`: the process's audience index against
the naive SQL (segments.naive, which shares no code with the engine) on expressions drawn from the
data the test left behind."""

from datetime import timedelta

from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from accounts.models import Branch, User
from activity.models import Event, Product
from customers.changes import Position, changes_since
from customers.models import Customer, Tag
from segments import engine
from segments.naive import naive_ids

MAX_TAGS = 25


def expressions_for_current_data() -> list[dict]:
    """Resolved trees covering every kind of condition the index answers."""
    today = timezone.localdate()
    trees = [{"tag_id": pk} for pk in Tag.objects.order_by("pk").values_list("pk", flat=True)[:MAX_TAGS]]
    if trees:
        trees.append({"not": trees[0]})
    trees += [{"field": "branch", "op": "eq", "value": pk} for pk in Branch.objects.values_list("pk", flat=True)[:5]]
    trees += [{"field": "owner", "op": "eq", "value": pk} for pk in User.objects.values_list("pk", flat=True)[:5]]
    trees += [{"field": "branch", "op": "isnull", "value": True}, {"field": "owner", "op": "isnull", "value": True}]
    for amount in Customer.objects.order_by("assets").values_list("assets", flat=True).distinct()[:3]:
        trees += [{"field": "assets", "op": "gte", "value": float(amount)},
                  {"field": "assets", "op": "lt", "value": float(amount)}]
    trees += [
        {"field": "age", "op": "gte", "value": 40}, {"field": "risk_level", "op": "gte", "value": 3},
        {"field": "lifecycle_stage", "op": "eq", "value": "mature"}, {"field": "gender", "op": "eq", "value": "F"},
        {"field": "created_at", "op": "gte", "value": today.isoformat()},
        {"field": "created_at", "op": "lt", "value": (today - timedelta(days=30)).isoformat()},
    ]
    for product_id, kind in Product.objects.order_by("pk").values_list("pk", "type")[:5]:
        trees += [{"activity": "bought", "product_id": product_id}, {"activity": "holds", "product_id": product_id},
                  {"activity": "bought", "product_id": product_id, "days": 30},
                  {"activity": "bought", "product_type": kind, "days": 7}]
    for event in Event.objects.order_by().values_list("type", flat=True).distinct()[:5]:
        trees.append({"activity": "did", "event": event, "days": 30, "op": "gte", "value": 1})
    trees += [{"field": "recency_days", "op": "lte", "value": 30}, {"field": "trades_30d", "op": "gte", "value": 1},
              {"field": "amount_30d", "op": "gt", "value": 0}, {"field": "asset_change_30d", "op": "isnull", "value": False}]
    return trees


def assert_index_matches_naive_sql(*, since: Position) -> None:
    """When customers or links changed since `since`, the index must give the naive SQL's answers."""
    try:
        if changes_since(since, limit=1).customer_ids == set():
            return  # the test wrote no customer data
        index = engine.current_index()
        mismatches = []
        for tree in expressions_for_current_data():
            expected = naive_ids(tree)
            got = set(index.evaluate(tree))
            if got != expected:
                mismatches.append((tree, sorted(got ^ expected)[:10]))
    except (OperationalError, InterfaceError):
        return  # the test took the database away on purpose (tests/core/test_database_down.py)
    assert not mismatches, f"audience index disagrees with the naive SQL: {mismatches}"
