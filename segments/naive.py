"""The naive evaluation: set algebra over the junction table in SQL (INTERSECT / UNION / EXCEPT).

This is the baseline DESIGN.md measured (185–2,177 ms per count at 1M customers) and the
reference the property-based tests compare the bitmap engine with. It shares no code with the
engine beyond the age and calendar-day bounds.
"""

from datetime import date

from django.db import connection
from django.utils import timezone

from customers.models import Customer, CustomerTag

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
        return f"SELECT id FROM {self.customers} WHERE {self.condition(node['field'], node['op'], node['value'])}"

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
