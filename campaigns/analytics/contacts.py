"""Figures per launched customer: a campaign contacts each customer once, in one or more attempts.

A launch gives every customer one task; "call back later" (or any outcome with a next follow-up
date) opens a follow-up task for the same customer. Those are attempts on one contact, so no
figure counts task rows. Both steps run in SQL: one row per (campaign, customer) — and per inner
key, such as the week of an outcome — from its attempts, then sums of those rows per group:

- customers: launched customers (treatment); the holdout is counted apart (see metrics);
- contacted / reached / interested / converted: customers with at least one such attempt logged;
- attempts: contact attempts logged (each one costs the campaign's cost per contact);
- done: contacted customers whose latest attempt is finished (not waiting for a follow-up);
- open: customers whose latest attempt is open;
- revenue: every amount logged on the customer's attempts.

`as_of` reads the figures as they stood at that moment: attempts created and outcomes logged
before it (an outcome corrected later reads as corrected: corrections are not replayed).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from accounts.models import User
from campaigns.models import Task

INTERESTED = [Task.Response.INTERESTED, Task.Response.CALL_BACK, Task.Response.CONVERTED]
FIGURES = ("customers", "open", "done", "contacted", "attempts", "reached", "interested", "converted", "revenue")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Key:
    """A grouping key: an ORM expression on the attempts, constant within one customer's row
    (for example the customer's branch, or the ISO week of the outcome)."""

    name: str  # the output name
    expression: object
    alias: str = ""  # the column name in SQL, when `name` is taken by a model field

    @property
    def column(self) -> str:
        return self.alias or self.name


def customer_counts(tasks: QuerySet, *, keys: tuple[Key, ...] = (), by_campaign: bool = True,
                    by_account_manager: bool = False, as_of=None) -> list[dict]:
    """Sums of customer rows for the treatment attempts in `tasks`, grouped by campaign (unless
    told otherwise), by `keys`, and by the account manager holding the customer's latest attempt."""
    attempts = tasks.filter(group=Task.Group.TREATMENT)
    contact, logged = ~Q(contact_result=""), Q()
    if as_of is not None:
        attempts = attempts.filter(created_at__lt=as_of)
        logged = Q(completed_at__lt=as_of)
        contact &= logged
    per_customer = (attempts.values("campaign_id", "customer_id", **{key.column: key.expression for key in keys})
                    .annotate(last_id=Max("pk"),
                              attempts=Count("pk", filter=contact),
                              reached=Count("pk", filter=contact & Q(contact_result=Task.ContactResult.REACHED)),
                              interested=Count("pk", filter=contact & Q(response__in=INTERESTED)),
                              converted=Count("pk", filter=contact & Q(response=Task.Response.CONVERTED)),
                              revenue=Sum("amount", filter=logged or None))
                    .order_by())
    try:
        inner_sql, params = per_customer.query.sql_with_params()
    except EmptyResultSet:  # e.g. campaign_id IN (): nothing to count
        return []
    quote = connection.ops.quote_name
    groups = (["c.campaign_id"] if by_campaign else []) + [f"c.{quote(key.column)}" for key in keys]
    joins = f"JOIN {quote(Task._meta.db_table)} last ON last.id = c.last_id"
    if by_account_manager:
        joins += f" LEFT JOIN {quote(User._meta.db_table)} manager ON manager.id = last.assignee_id"
        groups.append("manager.username")
    open_statuses = ", ".join(f"'{status}'" for status in Task.OPEN_STATUSES)
    if as_of is None:
        finished = f"last.status NOT IN ({open_statuses})"
    else:  # finished by then: its outcome logged before, or it was closed unworked
        finished = f"last.completed_at < %s OR last.status IN ('{Task.Status.CANCELLED}', '{Task.Status.SKIPPED}')"
    select = ", ".join(groups + [
        "COUNT(*)",
        f"SUM(CASE WHEN last.status IN ({open_statuses}) THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN c.attempts > 0 AND ({finished}) THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.attempts > 0 THEN 1 ELSE 0 END)",
        "SUM(c.attempts)",
        "SUM(CASE WHEN c.reached > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.interested > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.converted > 0 THEN 1 ELSE 0 END)",
        "SUM(c.revenue)",
    ])
    group_by = f" GROUP BY {', '.join(groups)}" if groups else ""
    sql = f"SELECT {select} FROM ({inner_sql}) c {joins}{group_by}"
    with connection.cursor() as cursor:
        # The as-of bound appears in the select list, before the inner query's parameters.
        bound = [connection.ops.adapt_datetimefield_value(as_of)] if as_of is not None else []
        cursor.execute(sql, [*bound, *params])
        rows = cursor.fetchall()
    names = (["campaign_id"] if by_campaign else []) + [key.name for key in keys] + (
        ["account_manager"] if by_account_manager else [])
    result = []
    for row in rows:
        figures = dict(zip(names + list(FIGURES), row, strict=True))
        if not figures["customers"]:
            continue  # an empty set still answers one all-NULL row without GROUP BY
        for name in FIGURES[:-1]:
            figures[name] = int(figures[name] or 0)
        figures["revenue"] = money(figures["revenue"])
        result.append(figures)
    return result


def money(value) -> Decimal:
    """A sum as exact cents (SQLite hands sums of decimals back as floats)."""
    if value is None:
        return Decimal("0.00")
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENTS)


def channel_key() -> Key:
    """The channel of the contact (follow-ups keep the launch task's channel)."""
    return Key("channel", F("channel"), alias="contact_channel")
