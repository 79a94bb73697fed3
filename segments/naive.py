"""The naive evaluation: set algebra over the junction table in SQL (INTERSECT / UNION / EXCEPT).

This is the baseline DESIGN.md measured (185–2,177 ms per count at 1M customers) and the
reference the property-based tests compare the bitmap engine with. It shares no code with the
engine beyond the age and calendar-day bounds.
"""

from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from activity.models import Event, Holding, Product, Transaction
from customers.models import Customer, CustomerTag
from scores.models import CustomerScore, ScoreRun

from .timebounds import birth_date_bounds, day_bounds

COLUMNS = {"branch": "branch_id", "owner": "owner_id", "lifecycle_stage": "lifecycle_stage", "gender": "gender",
           "risk_level": "risk_level", "assets": "assets", "age": "birth_date", "created_at": "created_at"}
SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class _Builder:
    def __init__(self, today: date):
        self.today = today
        self.params: list = []
        self.aliases = 0
        self.customers = connection.ops.quote_name(Customer._meta.db_table)
        self.links = connection.ops.quote_name(CustomerTag._meta.db_table)

    def alias(self) -> str:
        self.aliases += 1
        return f"s{self.aliases}"

    def select(self, node: dict) -> str:
        """A SELECT yielding one column `id` for the node."""
        if "tag_id" in node:
            self.params.append(node["tag_id"])
            return f"SELECT customer_id AS id FROM {self.links} WHERE tag_id = %s"
        if "all" in node or "any" in node:
            word = "INTERSECT" if "all" in node else "UNION"
            parts = [f"SELECT id FROM ({self.select(child)}) AS {self.alias()}" for child in node.get("all") or node["any"]]
            return f" {word} ".join(parts)
        if "not" in node:
            return f"SELECT id FROM {self.customers} EXCEPT SELECT id FROM ({self.select(node['not'])}) AS {self.alias()}"
        if "activity" in node:
            return self.activity(node)
        if node["field"] in ACTIVITY_SQL:
            return self.activity_field(node["field"], node["op"], node["value"])
        if node["field"] in SCORE_SQL:
            return self.score_field(node["field"], node["op"], node["value"])
        return f"SELECT id FROM {self.customers} WHERE {self.condition(node['field'], node['op'], node['value'])}"

    def since(self, days: int) -> date:
        """The first day of a window of `days` days ending today."""
        return self.today - timedelta(days=days - 1)

    def activity(self, node: dict) -> str:
        tx, products = Transaction._meta.db_table, Product._meta.db_table
        if node["activity"] == "holds":
            holdings = Holding._meta.db_table
            self.params.append(node["product_id"])
            return (f"SELECT h.customer_id AS id FROM {holdings} h WHERE h.product_id = %s AND h.amount > 0 "
                    f"AND h.as_of = (SELECT MAX(l.as_of) FROM {holdings} l WHERE l.customer_id = h.customer_id)")
        if node["activity"] == "bought":
            sql = f"SELECT DISTINCT t.customer_id AS id FROM {tx} t JOIN {products} p ON p.id = t.product_id WHERE t.kind = 'buy'"
            if "product_id" in node:
                sql += " AND t.product_id = %s"
                self.params.append(node["product_id"])
            else:
                sql += " AND p.type = %s"
                self.params.append(node["product_type"])
            if "days" in node:
                sql += " AND t.occurred_on >= %s"
                self.params.append(self.since(node["days"]))
            return sql
        self.params += [node["event"], self.since(node["days"]), node["value"]]
        return (f"SELECT c.id FROM {self.customers} c LEFT JOIN (SELECT customer_id, COUNT(*) AS n FROM "
                f"{Event._meta.db_table} WHERE type = %s AND occurred_on >= %s GROUP BY customer_id) e "
                f"ON e.customer_id = c.id WHERE COALESCE(e.n, 0) {SQL_OPS[node['op']]} %s")

    def activity_field(self, name: str, op: str, value) -> str:
        if name == "asset_change_30d":  # a ratio: computed beside the SQL, see asset_changes()
            wanted = [customer for customer, change in asset_changes(self.today).items()
                      if _holds(op, value, change)]
            if op == "isnull" and value:
                everyone = _all_customer_ids()
                wanted = sorted(everyone - {c for c, change in asset_changes(self.today).items() if change is not None})
            return self.id_list(wanted)
        tx = Transaction._meta.db_table
        if name == "recency_days":
            today = "%s::date" if connection.vendor == "postgresql" else "julianday(%s)"
            last = "MAX(occurred_on)" if connection.vendor == "postgresql" else "julianday(MAX(occurred_on))"
            measure = f"CAST({today} - {last} AS INTEGER)"
            inner = f"SELECT customer_id, {measure} AS v FROM {tx} GROUP BY customer_id"
            self.params.append(self.today)
            join = f"SELECT c.id FROM {self.customers} c LEFT JOIN ({inner}) a ON a.customer_id = c.id WHERE "
            return join + self.value_condition("a.v", op, value)
        measure = "COUNT(*)" if name == "trades_30d" else "ROUND(SUM(amount), 2)"
        self.params.append(self.since(30))
        inner = f"SELECT customer_id, {measure} AS v FROM {tx} WHERE occurred_on >= %s GROUP BY customer_id"
        return (f"SELECT c.id FROM {self.customers} c LEFT JOIN ({inner}) a ON a.customer_id = c.id WHERE "
                + self.value_condition("COALESCE(a.v, 0)", op, value))

    def score_field(self, name: str, op: str, value) -> str:
        """A score of the published run (customers without a row have none: NULL)."""
        inner = (f"SELECT customer_id, {name} AS v FROM {CustomerScore._meta.db_table} WHERE run_id = "
                 f"(SELECT MAX(id) FROM {ScoreRun._meta.db_table} WHERE status = 'published')")
        return (f"SELECT c.id FROM {self.customers} c LEFT JOIN ({inner}) a ON a.customer_id = c.id WHERE "
                + self.value_condition("a.v", op, value))

    def value_condition(self, column: str, op: str, value) -> str:
        if op == "isnull":
            return f"{column} IS {'' if value else 'NOT '}NULL"
        if op == "in":
            return "(" + " OR ".join(self.value_condition(column, "eq", item) for item in value) + ")"
        if op == "between":
            return f"({self.value_condition(column, 'gte', value[0])} AND {self.value_condition(column, 'lte', value[1])})"
        self.params.append(value)
        return f"{column} {SQL_OPS[op]} %s"

    def id_list(self, ids: list[int]) -> str:
        if not ids:
            return f"SELECT id FROM {self.customers} WHERE 1 = 0"
        self.params.extend(ids)
        return f"SELECT id FROM {self.customers} WHERE id IN ({', '.join(['%s'] * len(ids))})"

    def condition(self, name: str, op: str, value) -> str:
        column = COLUMNS[name]
        if op == "isnull":
            return f"{column} IS {'' if value else 'NOT '}NULL"
        if op == "in":
            return "(" + " OR ".join(self.condition(name, "eq", item) for item in value) + ")"
        if op == "between":
            return f"({self.condition(name, 'gte', value[0])} AND {self.condition(name, 'lte', value[1])})"
        if name == "age":
            if op == "ne":
                return f"({column} IS NOT NULL AND NOT {self.condition(name, 'eq', value)})"
            low, low_inclusive, high, high_inclusive = birth_date_bounds(op, int(value), self.today)
            parts = []
            if low is not None:
                parts.append(f"{column} {'>=' if low_inclusive else '>'} %s")
                self.params.append(low)
            if high is not None:
                parts.append(f"{column} {'<=' if high_inclusive else '<'} %s")
                self.params.append(high)
            return "(" + " AND ".join(parts) + ")"
        if name == "created_at":
            if op == "ne":
                return f"NOT {self.condition(name, 'eq', value)}"
            start, end = day_bounds(op, date.fromisoformat(value) if isinstance(value, str) else value)
            parts = []
            if start is not None:
                parts.append(f"{column} >= %s")
                self.params.append(connection.ops.adapt_datetimefield_value(start))
            if end is not None:
                parts.append(f"{column} < %s")
                self.params.append(connection.ops.adapt_datetimefield_value(end))
            return "(" + " AND ".join(parts) + ")"
        if name == "assets":
            self.params.append(connection.ops.adapt_decimalfield_value(value, 16, 2) if connection.vendor != "sqlite"
                               else float(value))
        else:
            self.params.append(value)
        return f"{column} {SQL_OPS[op]} %s"


ACTIVITY_SQL = ("recency_days", "trades_30d", "amount_30d", "asset_change_30d")
SCORE_SQL = ("churn_risk", "p_alive", "expected_purchases_90d", "rfm_r", "rfm_f", "rfm_m", "intent_score",
             "intent_group", "lifecycle", "risk_preference", "consultation")


def asset_changes(today: date) -> dict[int, float | None]:
    """Per customer with snapshots: (latest total − latest total on or before today − 30) / that total,
    None without a snapshot on each side of that day or with a base of 0 (cents, so exact)."""
    holdings = Holding._meta.db_table
    base_day, since = today - timedelta(days=30), today - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT customer_id, as_of, SUM(amount) FROM {holdings} WHERE as_of >= %s "
                       "GROUP BY customer_id, as_of ORDER BY customer_id, as_of", [since])
        rows = cursor.fetchall()
    latest, base = {}, {}
    for customer, day, total in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        latest[customer] = (day, float(total))
        if day <= base_day:
            base[customer] = float(total)
    result = {}
    for customer, (day, total) in latest.items():
        result[customer] = ((total - base[customer]) / base[customer]
                            if day > base_day and base.get(customer, 0) > 0 else None)
    return result


def _holds(op: str, value, actual) -> bool:
    if op == "isnull":
        return (actual is None) == value
    if actual is None:
        return False
    if op == "in":
        return actual in value
    if op == "between":
        return value[0] <= actual <= value[1]
    return {"eq": actual == value, "ne": actual != value, "lt": actual < value, "lte": actual <= value,
            "gt": actual > value, "gte": actual >= value}[op]


def _all_customer_ids() -> set[int]:
    return set(Customer.objects.values_list("id", flat=True))


def naive_sql(resolved: dict, today: date | None = None) -> tuple[str, list]:
    builder = _Builder(today or timezone.localdate())
    return builder.select(resolved), builder.params


def naive_count(resolved: dict, today: date | None = None) -> int:
    sql, params = naive_sql(resolved, today)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS audience", params)
        return cursor.fetchone()[0]


def naive_ids(resolved: dict, today: date | None = None) -> set[int]:
    sql, params = naive_sql(resolved, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}
