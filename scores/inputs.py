"""What the scores are computed from, as of a day: a few aggregate reads, one row per customer.

Every read is one SQL aggregate over the activity tables (the database does the 20M-row scans, the
process receives at most one row per customer, through COPY on PostgreSQL). Only rows on or before
the as-of day count, so a run as of a past day (the CDNOW check) sees what was known then.
"""

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from django.db import connection, transaction

from activity.models import Event, Holding, Product, Transaction
from customers.models import Customer


@dataclass
class Inputs:
    as_of: date
    customers: pd.Index  # every customer id
    transactions: pd.DataFrame  # per customer: first/last day, window count and amount, purchase days
    events: pd.DataFrame  # per customer and event type: count in the intent window
    consultations: pd.Index  # customers with a consultation event in its window
    advisory_contracts: pd.Index  # customers with an advisory-contract event
    advisory_buyers: pd.Index  # customers who bought an advisory product
    holdings: pd.DataFrame  # per customer and product type: amount in the latest snapshot
    latest_totals: pd.Series  # per customer with a snapshot: its latest holdings total (0: sold out)
    earlier_totals: pd.Series  # per customer: holdings total at the start of the trend window

    def counts(self) -> dict:
        return {"customers": len(self.customers), "customers_with_transactions": len(self.transactions),
                "customers_with_events": int(self.events["customer_id"].nunique()) if len(self.events) else 0,
                "customers_with_holdings": int(self.holdings["customer_id"].nunique()) if len(self.holdings) else 0}


def read_inputs(as_of: date, settings) -> Inputs:
    """Every input, read in one snapshot. On PostgreSQL outside a caller's transaction, the
    transactions aggregate (the long one) runs on a second connection sharing the snapshot
    (pg_export_snapshot), beside the other reads: the run's reads take the longest read's time."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # SQLite, or a caller's transaction (a test) whose rows only this connection sees.
        with transaction.atomic():
            _prepare()
            return _read_inputs(as_of, settings, _transactions(as_of, settings))
    with transaction.atomic():
        snapshot = _prepare(repeatable=True, export=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            transactions = pool.submit(_in_snapshot, snapshot, lambda: _transactions(as_of, settings))
            return _read_inputs(as_of, settings, transactions.result)


def _prepare(*, repeatable: bool = False, snapshot: str | None = None, export: bool = False) -> str | None:
    """Set up this connection's transaction: repeatable read (joining an exported snapshot, or exporting
    its own), and room for the 20M-row aggregates (PostgreSQL; nothing on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        if repeatable:  # must come first in the transaction
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if snapshot:
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
        cursor.execute("SET LOCAL work_mem = '256MB'")
        if export:
            cursor.execute("SELECT pg_export_snapshot()")
            return cursor.fetchone()[0]
    return None


def _in_snapshot(snapshot: str, read):
    try:
        with transaction.atomic():
            _prepare(repeatable=True, snapshot=snapshot)
            return read()
    finally:
        connection.close()  # this thread's own connection


def _read_inputs(as_of: date, settings, transactions) -> Inputs:
    return Inputs(
        as_of=as_of,
        customers=pd.Index(frame_of(f"SELECT id FROM {Customer._meta.db_table}", [], ["id"])["id"], dtype="int64"),
        events=_events(as_of, settings),
        consultations=_customers_with_events(settings.consultation_events,
                                             as_of - timedelta(days=settings.consultation_window_days - 1), as_of),
        advisory_contracts=_customers_with_events(settings.advisory_contract_events, None, as_of),
        advisory_buyers=_advisory_buyers(as_of),
        holdings=_holdings(as_of),
        latest_totals=_totals_on(as_of),
        earlier_totals=_totals_on(as_of - timedelta(days=settings.trend_days)),
        transactions=transactions() if callable(transactions) else transactions,
    )


def window_start(as_of: date, days: int) -> date:
    """The first day of a window of `days` days ending on as_of (as the segment language counts)."""
    return as_of - timedelta(days=days - 1)


def _transactions(as_of: date, settings) -> pd.DataFrame:
    kinds = [str(kind) for kind in settings.purchase_kinds] or ["buy"]
    purchase = f"kind IN ({', '.join(['%s'] * len(kinds))})"
    amount = "amount::float8" if connection.vendor == "postgresql" else "CAST(amount AS REAL)"
    start = window_start(as_of, settings.rfm_window_days)
    # One pass in (customer, day) order (the index): BG/NBD counts purchase *days* ("purchases on one
    # day are one transaction"), so DISTINCT days; float sums (numeric arithmetic took twice as long
    # over 20M rows; amounts have two decimals, a customer's month of them sums exactly enough).
    sql = f"""
        SELECT customer_id, MIN(occurred_on), MAX(occurred_on),
               COUNT(CASE WHEN occurred_on >= %s THEN 1 END), SUM(CASE WHEN occurred_on >= %s THEN {amount} END),
               COUNT(DISTINCT CASE WHEN {purchase} THEN occurred_on END),
               MIN(CASE WHEN {purchase} THEN occurred_on END), MAX(CASE WHEN {purchase} THEN occurred_on END)
        FROM {Transaction._meta.db_table} WHERE occurred_on <= %s GROUP BY customer_id"""
    frame = frame_of(sql, [start, start, *kinds, *kinds, *kinds, as_of],
                     ["customer_id", "first_day", "last_day", "window_count", "window_amount", "purchase_days",
                      "first_purchase", "last_purchase"])
    for name in ("first_day", "last_day", "first_purchase", "last_purchase"):
        frame[name] = pd.to_datetime(frame[name])
    for name in ("window_count", "purchase_days"):
        frame[name] = frame[name].fillna(0).astype("int64")
    frame["window_amount"] = frame["window_amount"].fillna(0).astype(float)
    return frame.set_index("customer_id")


def _events(as_of: date, settings) -> pd.DataFrame:
    types = [str(kind) for kind in settings.intent_weights]
    if not types:
        return pd.DataFrame({"customer_id": [], "type": [], "count": []})
    sql = (f"SELECT customer_id, type, COUNT(*) FROM {Event._meta.db_table} WHERE occurred_on >= %s "
           f"AND occurred_on <= %s AND type IN ({', '.join(['%s'] * len(types))}) GROUP BY customer_id, type")
    return frame_of(sql, [window_start(as_of, settings.intent_window_days), as_of, *types],
                  ["customer_id", "type", "count"])


def _customers_with_events(types: list, start: date | None, as_of: date) -> pd.Index:
    types = [str(kind) for kind in types]
    if not types:
        return pd.Index([], dtype="int64")
    since = "" if start is None else "occurred_on >= %s AND "
    sql = (f"SELECT DISTINCT customer_id FROM {Event._meta.db_table} WHERE {since}occurred_on <= %s "
           f"AND type IN ({', '.join(['%s'] * len(types))})")
    params = ([] if start is None else [start]) + [as_of, *types]
    return pd.Index(frame_of(sql, params, ["customer_id"])["customer_id"], dtype="int64")


def _advisory_buyers(as_of: date) -> pd.Index:
    sql = (f"SELECT DISTINCT t.customer_id FROM {Transaction._meta.db_table} t "
           f"JOIN {Product._meta.db_table} p ON p.id = t.product_id "
           "WHERE p.type = 'advisory' AND t.kind = 'buy' AND t.occurred_on <= %s")
    return pd.Index(frame_of(sql, [as_of], ["customer_id"])["customer_id"], dtype="int64")


def _holdings(as_of: date) -> pd.DataFrame:
    """Each customer's latest snapshot on or before as_of, summed per product type (positive amounts)."""
    table = Holding._meta.db_table
    amount = "SUM(h.amount)::float8" if connection.vendor == "postgresql" else "CAST(SUM(h.amount) AS REAL)"
    sql = (f"SELECT h.customer_id, p.type, {amount} FROM {table} h "
           f"JOIN (SELECT customer_id, MAX(as_of) AS day FROM {table} WHERE as_of <= %s GROUP BY customer_id) latest "
           "ON latest.customer_id = h.customer_id AND latest.day = h.as_of "
           f"JOIN {Product._meta.db_table} p ON p.id = h.product_id WHERE h.amount > 0 GROUP BY h.customer_id, p.type")
    return frame_of(sql, [as_of], ["customer_id", "type", "amount"])


def _totals_on(base_day: date) -> pd.Series:
    """Each customer's holdings total in their latest snapshot on or before base_day."""
    table = Holding._meta.db_table
    amount = "SUM(h.amount)::float8" if connection.vendor == "postgresql" else "CAST(SUM(h.amount) AS REAL)"
    sql = (f"SELECT h.customer_id, {amount} FROM {table} h "
           f"JOIN (SELECT customer_id, MAX(as_of) AS day FROM {table} WHERE as_of <= %s GROUP BY customer_id) earlier "
           "ON earlier.customer_id = h.customer_id AND earlier.day = h.as_of GROUP BY h.customer_id")
    frame = frame_of(sql, [base_day], ["customer_id", "total"])
    return frame.set_index("customer_id")["total"].astype(float)


def frame_of(sql: str, params: list, names: list[str]) -> pd.DataFrame:
    """The rows of a query; on PostgreSQL through COPY (a million rows in a fraction of the driver's time)."""
    params = [value.isoformat() if isinstance(value, date) else value for value in params]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            query = cursor.cursor.mogrify(sql, params).decode()
            cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
            buffer.seek(0)
            if not buffer.getvalue():
                return pd.DataFrame({name: [] for name in names})
            return pd.read_csv(buffer, header=None, names=names)
        cursor.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=names)
