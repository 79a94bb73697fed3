"""Figures per launched customer: a campaign contacts each customer once, in one or more attempts.

A launch gives every customer one task; "call back later" (or any outcome with a next follow-up
date) opens a follow-up task for the same customer. Those are attempts on one contact, so no
figure counts task rows. Both steps run in SQL: one row per (campaign, customer) — and per inner
key, such as the week of an outcome — from its attempts, then sums of those rows per group:

- customers: launched customers (treatment); the holdout is counted apart (see metrics);
- contacted / reached / interested / converted: customers with at least one such attempt logged;
- attempts: contact attempts logged (each one costs the campaign's cost per contact);
- done: contacted customers with no attempt open (none waiting for a follow-up);
- open: customers whose latest attempt is open (as of a moment: not logged by then, nor closed unworked);
- revenue: every amount logged on the customer's attempts.

`as_of` reads the figures as they stood at that moment: attempts created and outcomes logged
before it (an outcome corrected later reads as corrected: corrections are not replayed).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, When

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


CAMPAIGN, MANAGER = "campaign_id", "account_manager"


def customer_counts(tasks: QuerySet, groupings: dict[str, tuple[str, ...]], *, keys: tuple[Key, ...] = (),
                    as_of=None) -> dict[str, list[dict]]:
    """Sums of customer rows for the treatment attempts in `tasks`, for each named grouping.

    A grouping is a tuple of names: CAMPAIGN, MANAGER (the account manager holding the customer's
    latest attempt) and the names of `keys`. One statement computes the customer rows once and every
    grouping from them (a UNION ALL over one CTE, which PostgreSQL materialises once): at a million
    tasks, four breakdowns cost little more than one.
    """
    rows_sql = _customer_rows(tasks, keys, as_of)
    if rows_sql is None:
        return {name: [] for name in groupings}
    inner_sql, params = rows_sql
    quote = connection.ops.quote_name
    columns = {CAMPAIGN: "c.campaign_id", MANAGER: "manager.username",
               **{key.name: f"c.{quote(key.column)}" for key in keys}}
    width = max((len(names) for names in groupings.values()), default=0)
    figures = ", ".join([
        "COUNT(*)", "SUM(CASE WHEN c.open > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.attempts > 0 AND c.open = 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.attempts > 0 THEN 1 ELSE 0 END)", "SUM(c.attempts)",
        "SUM(CASE WHEN c.reached > 0 THEN 1 ELSE 0 END)", "SUM(CASE WHEN c.interested > 0 THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN c.converted > 0 THEN 1 ELSE 0 END)", "SUM(c.revenue)"])
    selects, labels = [], list(groupings)
    for number, names in enumerate(groupings.values()):
        # Keys as text in every branch of the union (their types differ), padded to one width.
        keyed = [f"CAST({columns[name]} AS TEXT)" for name in names] + ["NULL"] * (width - len(names))
        joins = ""
        if MANAGER in names:
            joins = f" LEFT JOIN {quote(User._meta.db_table)} manager ON manager.id = c.manager_id"
        group_by = f" GROUP BY {', '.join(columns[name] for name in names)}" if names else ""
        selects.append(f"SELECT {number}, {', '.join([*keyed, figures])} FROM c{joins}{group_by}")
    sql = f"WITH c AS ({inner_sql}) " + " UNION ALL ".join(selects)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # JIT compilation took ~1 s of this statement's 3.5 s at a million tasks and won nothing back.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {name: [] for name in groupings}
    for number, *values in rows:
        label = labels[number]
        names = groupings[label]
        row = dict(zip(FIGURES, values[width:], strict=True))
        if not row["customers"]:
            continue  # an empty set still answers one all-NULL row without GROUP BY
        for name in FIGURES[:-1]:
            row[name] = int(row[name] or 0)
        row["revenue"] = cents(row["revenue"])
        for name, value in zip(names, values[:len(names)], strict=True):
            row[name] = int(value) if name == CAMPAIGN else value
        result[label].append(row)
    return result


def _customer_rows(tasks: QuerySet, keys: tuple[Key, ...], as_of) -> tuple[str, tuple] | None:
    """The SQL of one row per (campaign, customer[, keys]) with its facts, or None when nothing matches."""
    attempts = tasks.filter(group=Task.Group.TREATMENT)
    contact, logged = ~Q(contact_result=""), Q()
    open_now = Q(status__in=Task.OPEN_STATUSES)
    if as_of is not None:
        attempts = attempts.filter(created_at__lt=as_of)
        logged = Q(completed_at__lt=as_of)
        contact &= logged
        # Open at that moment: not logged by then, nor closed unworked (a closing is not dated).
        open_now = ~logged & ~Q(status__in=[Task.Status.CANCELLED, Task.Status.SKIPPED])
    # Only a customer's latest attempt can be open (a follow-up opens once the one before is done),
    # so "open" and "done" need no look at which attempt is the latest.
    facts = {"open": open_now, "attempts": contact,
             "reached": contact & Q(contact_result=Task.ContactResult.REACHED),
             "interested": contact & Q(response__in=INTERESTED),
             "converted": contact & Q(response=Task.Response.CONVERTED)}
    grouping = {key.column: key.expression for key in keys}
    # Most customers have one attempt: their task row is their customer row, read in one pass. Only
    # customers with a follow-up are grouped — grouping every task by customer cost 3× the whole
    # recompute at a million tasks. The test is an EXISTS on the small follow-up index: a hash anti
    # join in PostgreSQL (NOT IN fell back to a per-row scan once the pairs outgrew work_mem: 6 min at
    # 10M tasks), an index probe in SQLite. Which side a customer is on changes nothing in the result.
    followed = Exists(Task.objects.filter(campaign_id=OuterRef(CAMPAIGN), customer_id=OuterRef("customer_id"),
                                          follow_up_of__isnull=False))
    single = (attempts.filter(~followed)
              .values(CAMPAIGN, "customer_id", **grouping, manager_id=F("assignee_id"),
                      **{name: Case(When(condition, then=1), default=0) for name, condition in facts.items()},
                      revenue=Case(When(logged, then=F("amount"))) if logged else F("amount"))
              .order_by())
    several = (attempts.filter(followed).values(CAMPAIGN, "customer_id", **grouping)
               .annotate(last_id=Max("pk"), **{name: Count("pk", filter=condition) for name, condition in facts.items()},
                         revenue=Sum("amount", filter=logged or None))
               .order_by())
    try:
        single_sql, single_params = single.query.sql_with_params()
        several_sql, several_params = several.query.sql_with_params()
    except EmptyResultSet:  # e.g. campaign_id IN (): nothing to count
        return None
    quote = connection.ops.quote_name
    named = ", ".join(quote(name) for name in [CAMPAIGN, "customer_id", *grouping])
    counted = ", ".join(quote(name) for name in [*facts, "revenue"])
    # The account manager of a grouped customer is the one holding the latest attempt.
    inner_sql = (f"SELECT {named}, manager_id, {counted} FROM ({single_sql}) s UNION ALL "
                 f"SELECT {', '.join(f'g.{quote(name)}' for name in [CAMPAIGN, 'customer_id', *grouping])}, "
                 f"latest.assignee_id, {', '.join(f'g.{quote(name)}' for name in [*facts, 'revenue'])} "
                 f"FROM ({several_sql}) g JOIN {quote(Task._meta.db_table)} latest ON latest.id = g.last_id")
    return inner_sql, (*single_params, *several_params)


def customer_totals(tasks: QuerySet, *, as_of=None) -> list[dict]:
    """Per campaign: the totals of customer_counts."""
    return customer_counts(tasks, {"total": (CAMPAIGN,)}, as_of=as_of)["total"]


def cents(value) -> Decimal:
    """A sum as exact cents (SQLite hands sums of decimals back as floats)."""
    if value is None:
        return Decimal("0.00")
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENTS)


def channel_key() -> Key:
    """The channel of the contact (follow-ups keep the launch task's channel)."""
    return Key("channel", F("channel"), alias="contact_channel")
