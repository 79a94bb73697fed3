"""Set-based writes of checked activity rows: staged in a temporary table, then one statement.

PostgreSQL stages with COPY (core.bulk.copy_rows), SQLite with executemany; the final INSERT … SELECT
skips (or updates) what a unique constraint already holds, so the counts are exact even while
another batch with the same ids is written at the same moment.
"""

import pandas as pd
from django.db import connection

from core.bulk import analyze_after_bulk_write, copy_rows, create_temp_table, drop_temp_tables

STAGE = "activity_stage"


def _stage(rows: pd.DataFrame, table: str) -> list[str]:
    columns = list(rows.columns)
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    create_temp_table(STAGE, f"AS SELECT {quoted} FROM {table} WHERE 1 = 0")
    frame = rows.copy()
    for column in frame.columns:
        if str(frame[column].dtype).startswith("datetime64"):
            frame[column] = _stored_times(frame[column])
        elif column in ("customer_id", "product_id"):
            frame[column] = frame[column].astype("Int64")
    copy_rows(STAGE, columns, frame)
    return columns


def _stored_times(values: pd.Series) -> pd.Series:
    """UTC times as each database stores them: PostgreSQL takes the timestamps as they are (pyarrow
    writes ISO 8601 with a Z for COPY); SQLite compares Django's own text form, naive UTC."""
    values = values.dt.tz_convert("UTC") if values.dt.tz is not None else values.dt.tz_localize("UTC")
    if connection.vendor == "postgresql":
        return values
    text = values.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    return text.where(values.notna(), None)


def insert_new(rows: pd.DataFrame, table: str) -> int:
    """Insert rows whose external id is not stored yet; returns how many were inserted."""
    if rows.empty:
        return 0
    # Staged in id order and read back in the order staged: the unique index is then written left to
    # right (a shuffled 300k-row batch took 16 s to insert, the same rows in id order 8 s), and the
    # sort is Arrow's, not an ORDER BY spilling 10M rows to disk through 4 MB of work_mem.
    columns = _stage(rows.sort_values("external_id", kind="stable"), table)
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        # WHERE true: SQLite would read ON CONFLICT as part of the SELECT's join otherwise.
        cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {STAGE} WHERE true "
                       "ON CONFLICT (external_id) DO NOTHING")
        inserted = cursor.rowcount
    drop_temp_tables(STAGE)
    analyze_after_bulk_write(table, changed=inserted)
    return inserted


def upsert_holdings(rows: pd.DataFrame) -> tuple[int, int]:
    """Insert new (customer, product, day) positions and update changed amounts: (created, updated)."""
    if rows.empty:
        return 0, 0
    columns = _stage(rows[["customer_id", "product_id", "as_of", "amount"]], "activity_holding")
    table = "activity_holding"
    quoted = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {STAGE} s JOIN {table} h ON h.customer_id = s.customer_id "
                       "AND h.product_id = s.product_id AND h.as_of = s.as_of WHERE h.amount <> s.amount")
        updated = cursor.fetchone()[0]
        cursor.execute(f"UPDATE {table} SET amount = s.amount FROM {STAGE} s WHERE s.customer_id = {table}.customer_id "
                       f"AND s.product_id = {table}.product_id AND s.as_of = {table}.as_of AND s.amount <> {table}.amount")
        cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {STAGE} WHERE true "
                       "ON CONFLICT (customer_id, product_id, as_of) DO NOTHING")
        created = cursor.rowcount
    drop_temp_tables(STAGE)
    analyze_after_bulk_write(table, changed=created + updated)
    return created, updated
