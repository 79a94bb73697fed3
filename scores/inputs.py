"""What the scores are computed from, as of a day: a few aggregate reads, one row per customer.

Every read is one SQL aggregate over the activity tables (the database does the 20M-row scans, the
process receives at most one row per customer, through COPY on PostgreSQL). Only rows on or before
the as-of day count, so a run as of a past day (the CDNOW check) sees what was known then.
"""

import io
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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Room for the per-day hash aggregate of 20M transactions (this transaction only).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        return _read_inputs(as_of, settings)


def _read_inputs(as_of: date, settings) -> Inputs:
    return Inputs(
        as_of=as_of,
        customers=pd.Index(frame_of(f"SELECT id FROM {Customer._meta.db_table}", [], ["id"])["id"], dtype="int64"),
        transactions=_transactions(as_of, settings),
        events=_events(as_of, settings),
        consultations=_customers_with_events(settings.consultation_events,
                                             as_of - timedelta(days=settings.consultation_window_days - 1), as_of),
        advisory_contracts=_customers_with_events(settings.advisory_contract_events, None, as_of),
        advisory_buyers=_advisory_buyers(as_of),
        holdings=_holdings(as_of),
        latest_totals=_totals_on(as_of),
        earlier_totals=_totals_on(as_of - timedelta(days=settings.trend_days)),
    )


def window_start(as_of: date, days: int) -> date:
    """The first day of a window of `days` days ending on as_of (as the segment language counts)."""
    return as_of - timedelta(days=days - 1)


def _transactions(as_of: date, settings) -> pd.DataFrame:
    kinds = [str(kind) for kind in settings.purchase_kinds] or ["buy"]
    purchase = f"CASE WHEN kind IN ({', '.join(['%s'] * len(kinds))}) THEN 1 ELSE 0 END"
    amount = "SUM(amount)::float8" if connection.vendor == "postgresql" else "CAST(SUM(amount) AS REAL)"
    start = window_start(as_of, settings.rfm_window_days)
    # Per day first (BG/NBD counts purchase days: "purchases on one day are one transaction"), then
    # per customer.
    sql = f"""
        SELECT customer_id, MIN(day), MAX(day),
               SUM(CASE WHEN day >= %s THEN n ELSE 0 END), SUM(CASE WHEN day >= %s THEN amount ELSE 0 END),
               SUM(purchase), MIN(CASE WHEN purchase = 1 THEN day END), MAX(CASE WHEN purchase = 1 THEN day END)
        FROM (SELECT customer_id, occurred_on AS day, COUNT(*) AS n, {amount} AS amount, MAX({purchase}) AS purchase
              FROM {Transaction._meta.db_table} WHERE occurred_on <= %s GROUP BY customer_id, occurred_on) days
        GROUP BY customer_id"""
    frame = frame_of(sql, [start, start, *kinds, as_of],
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
