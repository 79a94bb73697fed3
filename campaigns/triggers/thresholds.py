"""Threshold changes on activity a key-event rule can watch, beside its segment: who is in each now.

A condition rule fires for the customers who entered its condition since its last look
(services.check_condition_rules), so each kind only has to say who meets it today:
- `maturing`: holds (in their latest holdings snapshot) a product whose maturity date is within
  `days` days from today;
- `holding_loss` (a heavy holding's loss): one product of the latest snapshot is worth `pct` % or more
  less than in the latest snapshot on or before today − `days`, and was worth `min_amount` or more then;
- `asset_drop`: the latest snapshot's total is `pct` % or more below the total of the latest snapshot on
  or before today − `days` (asset_change_30d in the segment language is the 30-day case);
- `trading_change`: the transactions of the last `days` days are `pct` % fewer (`direction` down) or
  more (up) than in the `days` days before, with at least `min_trades` on the busier side.
Windows are days in TIME_ZONE, the last one ending today, as in the segment language.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyroaring import BitMap

from activity.models import Holding, Product, Transaction

KINDS = {
    "maturing": gettext_lazy("A product held matures within N days"),
    "holding_loss": gettext_lazy("A heavy holding's value fell by a percentage over N days"),
    "asset_drop": gettext_lazy("Holdings fell by a percentage over N days"),
    "trading_change": gettext_lazy("Trading frequency changed by a percentage (last N days against the N before)"),
}
# kind → (required, optional with defaults)
PARAMETERS = {
    "maturing": (("days",), {}),
    "holding_loss": (("days", "pct"), {"min_amount": 0}),
    "asset_drop": (("days", "pct"), {}),
    "trading_change": (("days", "pct"), {"direction": "down", "min_trades": 3}),
}


def check_threshold(value) -> dict | None:
    """`{"kind": "holding_loss", "days": 30, "pct": 20, "min_amount": 100000}` with its defaults filled
    in, or None for none; a ValidationError says what is wrong."""
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise ValidationError(_("A threshold names its kind: one of %(kinds)s.") % {"kinds": ", ".join(KINDS)})
    kind = value["kind"]
    required, optional = PARAMETERS[kind]
    unknown = sorted(set(value) - {"kind", *required, *optional})
    if unknown:
        raise ValidationError(_("A %(kind)s threshold takes no %(names)s.") % {"kind": kind, "names": ", ".join(unknown)})
    result = {"kind": kind, **optional}
    for name in required:
        if value.get(name) in (None, ""):
            raise ValidationError(_("A %(kind)s threshold needs %(name)s.") % {"kind": kind, "name": name})
    for name in ("days", "min_trades"):
        if name in value:
            number = value[name]
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 366:
                raise ValidationError(_("%(name)s is a whole number from 1 to 366.") % {"name": name})
            result[name] = number
    for name in ("pct", "min_amount"):
        if name in value:
            number = value[name]
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise ValidationError(_("%(name)s is a number, 0 or more.") % {"name": name})
            if name == "pct" and not 0 < number <= (1000 if kind == "trading_change" else 100):
                raise ValidationError(_("pct is a percentage above 0 (at most 100 for a loss or a drop)."))
            result[name] = number
    if "direction" in value:
        if value["direction"] not in ("down", "up"):
            raise ValidationError(_("direction is down or up."))
        result["direction"] = value["direction"]
    return result


def describe(threshold: dict) -> str:
    """The threshold in words, for the rule list and page."""
    kind = threshold["kind"]
    if kind == "maturing":
        return _("a product held matures within %(days)d days") % threshold
    if kind == "holding_loss":
        return _("a holding of at least %(min_amount)s lost %(pct)s %% or more over %(days)d days") % threshold
    if kind == "asset_drop":
        return _("holdings down %(pct)s %% or more over %(days)d days") % threshold
    words = {"down": _("fell"), "up": _("rose")}[threshold["direction"]]
    return _("trades %(words)s by %(pct)s %% or more (last %(days)d days against the %(days)d before, at least "
             "%(min_trades)d)") % {**threshold, "words": words}


def members(threshold: dict, today: date) -> BitMap:
    """Every customer meeting the threshold today."""
    sql, params = {"maturing": _maturing, "holding_loss": _holding_loss, "asset_drop": _asset_drop,
                   "trading_change": _trading_change}[threshold["kind"]](threshold, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return BitMap(row[0] for row in cursor.fetchall())


HOLDINGS, PRODUCTS, TRANSACTIONS = Holding._meta.db_table, Product._meta.db_table, Transaction._meta.db_table


def _snapshots(today: date, base_day: date) -> tuple[str, list]:
    """Each customer's latest snapshot day (`now_day`) and their latest on or before `base_day`."""
    return (f"""WITH latest AS (SELECT customer_id, MAX(as_of) AS now_day FROM {HOLDINGS} WHERE as_of <= %s
                                GROUP BY customer_id),
                     base AS (SELECT customer_id, MAX(as_of) AS base_day FROM {HOLDINGS} WHERE as_of <= %s
                              GROUP BY customer_id),
                     pairs AS (SELECT l.customer_id, l.now_day, b.base_day FROM latest l
                               JOIN base b ON b.customer_id = l.customer_id WHERE l.now_day > b.base_day)""",
            [today, base_day])


def _maturing(threshold: dict, today: date) -> tuple[str, list]:
    # The products first (few mature in any window), then their holders in their latest snapshot.
    return (f"""SELECT DISTINCT h.customer_id FROM {HOLDINGS} h
                WHERE h.product_id IN (SELECT id FROM {PRODUCTS} WHERE maturity_date >= %s AND maturity_date <= %s)
                  AND h.amount > 0
                  AND h.as_of = (SELECT MAX(l.as_of) FROM {HOLDINGS} l WHERE l.customer_id = h.customer_id
                                 AND l.as_of <= %s)""",
            [today, today + timedelta(days=threshold["days"]), today])


def _holding_loss(threshold: dict, today: date) -> tuple[str, list]:
    pairs, params = _snapshots(today, today - timedelta(days=threshold["days"]))
    return (f"""{pairs}
                SELECT DISTINCT p.customer_id FROM pairs p
                JOIN {HOLDINGS} o ON o.customer_id = p.customer_id AND o.as_of = p.base_day
                JOIN {HOLDINGS} n ON n.customer_id = p.customer_id AND n.as_of = p.now_day AND n.product_id = o.product_id
                WHERE o.amount > 0 AND o.amount >= %s AND n.amount * 100 <= o.amount * (100 - %s)""",
            params + [threshold["min_amount"], threshold["pct"]])


def _asset_drop(threshold: dict, today: date) -> tuple[str, list]:
    pairs, params = _snapshots(today, today - timedelta(days=threshold["days"]))
    total = f"(SELECT SUM(amount) FROM {HOLDINGS} t WHERE t.customer_id = p.customer_id AND t.as_of = p.{{day}})"
    now_total, base_total = total.format(day="now_day"), total.format(day="base_day")
    return (f"""{pairs}
                SELECT p.customer_id FROM pairs p
                WHERE {base_total} > 0 AND {now_total} * 100 <= {base_total} * (100 - %s)""",
            params + [threshold["pct"]])


def _trading_change(threshold: dict, today: date) -> tuple[str, list]:
    days, pct = threshold["days"], threshold["pct"]
    recent_from, earlier_from = today - timedelta(days=days - 1), today - timedelta(days=2 * days - 1)
    counts = (f"""SELECT customer_id,
                         SUM(CASE WHEN occurred_on >= %s THEN 1 ELSE 0 END) AS recent,
                         SUM(CASE WHEN occurred_on < %s THEN 1 ELSE 0 END) AS earlier
                  FROM {TRANSACTIONS} WHERE occurred_on >= %s AND occurred_on <= %s GROUP BY customer_id""")
    params = [recent_from, recent_from, earlier_from, today]
    if threshold["direction"] == "down":
        condition = "earlier >= %s AND recent * 100 <= earlier * (100 - %s)"
    else:
        condition = "recent >= %s AND recent * 100 >= earlier * (100 + %s)"
    return f"SELECT customer_id FROM ({counts}) c WHERE {condition}", params + [threshold["min_trades"], pct]
