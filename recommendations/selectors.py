"""Reads: association rules, a customer's next best products, what history says about a crowd.

All of them read the audience index (segments.engine), so they see the same current holdings and
purchases a segment does, patched within moments of a write. Computations are remembered per
published index (instances are immutable): the rules page and the next-best panel recompute only
after the data changed.
"""

import threading
from datetime import date

import numpy as np
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from pyroaring import BitMap

from activity.models import Product, ProductStatus
from activity.suitability import suitable_products
from campaigns.models import Task
from segments import engine
from segments.activity_index import day_number

from .associations import Rule, association_rules
from .item_model import ItemModel, Suggestion

BASES = ("holdings", "purchases")
_lock = threading.Lock()
_rules_cache: dict = {}  # (activity index, parameters) → result; only the latest index is kept
_item_model: ItemModel | None = None
_item_source: tuple = (None, None)  # the index parts _item_model was made from


def baskets(index: engine.AudienceIndex, *, basis: str = "holdings", days: int | None = None,
            product_type: str | None = None, today: date | None = None) -> dict[int, BitMap]:
    """Per product, the customers whose basket holds it: current holders, or buyers (in the last
    `days` days, or ever), limited to one product type if asked."""
    activity = index.activity
    if basis == "holdings":
        found = {product: members & index.universe for product, members in activity.holders.items()}
    else:
        today = today or timezone.localdate()
        found = {}
        for product, column in activity.last_buy.items():
            members = column.present if days is None else column.range(day_number(today) - days + 1, True, None, True)
            found[product] = members & index.universe
    if product_type:
        kept = set(Product.objects.filter(type=product_type).values_list("pk", flat=True))
        found = {product: members for product, members in found.items() if product in kept}
    return {product: members for product, members in found.items() if members}


def rules(*, min_support: float, min_confidence: float, basis: str = "holdings", days: int | None = None,
          product_type: str | None = None, branch_id: int | None = None, max_items: int = 3,
          min_lift: float | None = None) -> dict:
    """Association rules with their products' codes, the audience each suggests and its size; with
    `min_lift`, only those at least that strong (a lift below 1 means the left side makes the right
    less likely: no reason to offer it)."""
    index = engine.current_index()
    key = (basis, days, product_type, branch_id, max_items, min_support, min_confidence, min_lift, timezone.localdate())
    with _lock:
        cached = _rules_cache.get(key)
        if cached is not None and cached[0] is index.activity and cached[1] is index.universe:
            return cached[2]
    found = baskets(index, basis=basis, days=days, product_type=product_type)
    scope = index.categorical["branch"].get(branch_id, BitMap()) if branch_id is not None else None
    computed, total = association_rules(found, scope=scope, min_support=min_support, min_confidence=min_confidence,
                                        max_len=max_items)
    if min_lift is not None:
        computed = [rule for rule in computed if rule.lift >= min_lift]
    products = {product.pk: product for product in Product.objects.filter(pk__in=list(found))}
    opportunity = _Opportunity(found, index.activity.holders, scope)
    result = {"baskets": total, "basis": basis, "days": days,
              "rules": [_rule_row(rule, products, opportunity, basis, days) for rule in computed]}
    with _lock:
        if len(_rules_cache) > 32 or any(entry[0] is not index.activity for entry in _rules_cache.values()):
            _rules_cache.clear()
        _rules_cache[key] = (index.activity, index.universe, result)
    return result


class _Opportunity:
    """Customers (in scope) with a rule's antecedent who do not hold all of its consequent now — whom
    its audience selects. Whatever the basis, "lacks C" means current holdings (the audience's NOT
    holds(C)). Intersections are kept per antecedent and per consequent: a low threshold gives tens of
    thousands of rules over a few thousand distinct sides."""

    def __init__(self, found: dict, holders: dict, scope):
        self.found, self.holders, self.scope = found, holders, scope
        self.having: dict[tuple, BitMap] = {}
        self.holding: dict[tuple, BitMap] = {}

    def __call__(self, rule: Rule) -> int:
        having = self.having.get(rule.antecedent)
        if having is None:
            having = BitMap.intersection(*(self.found[item] for item in rule.antecedent)) if len(
                rule.antecedent) > 1 else BitMap(self.found[rule.antecedent[0]])
            if self.scope is not None:
                having &= self.scope
            self.having[rule.antecedent] = having
        holding = self.holding.get(rule.consequent)
        if holding is None:
            parts = [self.holders.get(item, BitMap()) for item in rule.consequent]
            holding = self.holding[rule.consequent] = BitMap.intersection(*parts) if len(parts) > 1 else parts[0]
        return len(having) - having.intersection_cardinality(holding)


def _rule_row(rule: Rule, products: dict, opportunity: _Opportunity, basis: str, days: int | None) -> dict:
    antecedent = [products[item].code for item in rule.antecedent]
    consequent = [products[item].code for item in rule.consequent]
    return {"antecedent": antecedent, "consequent": consequent, "support": round(rule.support, 6),
            "confidence": round(rule.confidence, 6), "lift": round(rule.lift, 6), "customers": rule.customers,
            "antecedent_support": round(rule.antecedent_support, 6),
            "consequent_support": round(rule.consequent_support, 6),
            "opportunity": opportunity(rule), "audience": audience_text(antecedent, consequent, basis, days)}


def audience_text(antecedent: list[str], consequent: list[str], basis: str, days: int | None) -> str:
    """`bought(A) AND NOT holds(C)`: who has the rule's antecedent and lacks its consequent."""
    window = f", {days}d" if days else ""
    having = [f"holds({code})" if basis == "holdings" else f"bought({code}{window})" for code in antecedent]
    lacking = [f"holds({code})" for code in consequent]
    missing = f"NOT {lacking[0]}" if len(lacking) == 1 else f"NOT ({' AND '.join(lacking)})"
    return " AND ".join(having + [missing])


# --- next best product ---------------------------------------------------------------------------

def item_model(index: engine.AudienceIndex | None = None) -> ItemModel:
    """The similarity model of current holdings, kept while they are unchanged: for the same published
    index at once; after a patch, only the products whose holders changed are recounted."""
    global _item_model, _item_source
    index = index or engine.current_index()
    with _lock:
        if _item_model is not None and _item_source[0] is index.activity and _item_source[1] is index.universe:
            return _item_model
    found = baskets(index)
    with _lock:
        _item_model = _item_model.updated(found) if _item_model is not None else ItemModel(found)
        _item_source = (index.activity, index.universe)
        return _item_model


def next_best(customer, *, limit: int = 5) -> list[dict]:
    """What to offer this customer next: on sale, suitable for their risk level, not held, scored by
    item-based collaborative filtering over everyone's holdings, each with its reason."""
    model = item_model()
    held = model.held_by(customer.pk)
    offered = {product.pk: product for product in suitable_products(customer).filter(status=ProductStatus.ON_SALE)}
    suggestions = model.suggest(held, sorted(offered), limit)
    codes = dict(Product.objects.filter(pk__in=held).values_list("pk", "code"))
    return [{"product": offered[item.item].code, "name": offered[item.item].name,
             "type": offered[item.item].type, "risk_level": offered[item.item].risk_level,
             "score": item.score, "basis": item.basis, "reason": reason(item, codes, offered[item.item].code),
             "evidence": {"held": [codes[held_item] for held_item in item.evidence.held],
                          "customers": item.evidence.base, "also": item.evidence.also}}
            for item in suggestions]


def reason(item: Suggestion, codes: dict, target: str) -> str:
    share = f"{item.evidence.share:.0%}"
    if item.basis == "popular":
        return _("Held by %(share)s of %(base)s customers with holdings (nothing the customer holds points "
                 "elsewhere).") % {"share": share, "base": f"{item.evidence.base:,}"}
    held = [codes[held_item] for held_item in item.evidence.held]
    if len(held) == 2:
        return _("Customers holding %(first)s and %(second)s also hold %(target)s: %(share)s of %(base)s.") % {
            "first": held[0], "second": held[1], "target": target, "share": share, "base": f"{item.evidence.base:,}"}
    return _("Customers holding %(first)s also hold %(target)s: %(share)s of %(base)s.") % {
        "first": held[0], "target": target, "share": share, "base": f"{item.evidence.base:,}"}


# --- history of a crowd --------------------------------------------------------------------------

MIN_CONTACTED = 30  # fewer past contacts than this: "not enough history", not a rate


def conversion_history(groups: dict[str, np.ndarray]) -> dict:
    """For each crowd (customer ids), how its customers answered past campaigns: treated first contacts
    done, converted, and the rate (None below MIN_CONTACTED contacts)."""
    table, group = Task._meta.db_table, connection.ops.quote_name("group")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT customer_id, COUNT(*), SUM(CASE WHEN response = %s THEN 1 ELSE 0 END) FROM {table} "
                       f"WHERE {group} = %s AND status = %s AND follow_up_of_id IS NULL GROUP BY customer_id",
                       [Task.Response.CONVERTED, Task.Group.TREATMENT, Task.Status.DONE])
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    result = {}
    for name, ids in groups.items():
        inside = np.isin(rows[:, 0], ids)
        done, converted = int(rows[inside, 1].sum()), int(rows[inside, 2].sum())
        result[name] = {"contacted": done, "converted": converted,
                        "rate": round(converted / done, 4) if done >= MIN_CONTACTED else None}
    return result
