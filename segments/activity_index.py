"""The behaviour half of the audience index: what customers bought, hold and did, in memory.

Built and patched with the rest of the index (segments.engine), from the same change feed: the
activity tables' triggers log the customers each write touched. What is kept, per process:
- the day of each customer's last buy of each product and of each product type, and of their last
  transaction of any kind (sorted columns: `bought(X, 30d)` and `recency_days` are range queries);
- the holders of each product in each customer's latest holdings snapshot (bitmaps);
- the last 31 days of transactions and the last 366 days of events as (customer, day, value) rows,
  for the moving windows of `trades_30d`, `amount_30d` and `did(EVENT, Nd)`;
- holdings snapshot totals of the last 400 days, for `asset_change_30d`.
Days are counted from 1970-01-01 and are calendar days in TIME_ZONE (Transaction.occurred_on).
A window of N days ending today is the days today − N + 1 … today.
Dense per-customer answers (counts, sums, changes for one day) are computed once per index and day
and carried into a patched index for the customers the patch did not touch.
"""

import copy
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.db import connection
from pyroaring import BitMap

from activity.models import Event, Holding, Product, Transaction

from .columns import NumericColumn, bitmap_of, read_frame

EPOCH_DAY = date(1970, 1, 1).toordinal()
RECENT_DAYS = 31  # transactions kept for the 30-day fields (one spare day for an index built yesterday)
EVENT_DAYS = 366  # events kept for did(EVENT, Nd), N ≤ 365
SNAPSHOT_DAYS = 400  # holdings totals kept for asset_change_30d
WINDOW_30 = 30


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH_DAY


def _days(values: pd.Series) -> np.ndarray:
    """Day numbers of a column of dates (date objects or ISO text)."""
    if values.empty:
        return np.empty(0, dtype=np.int64)
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


class DayLog:
    """Rows (customer, day, value) sorted by day; patched by masking changed customers and keeping
    their fresh rows in a small overlay, like NumericColumn."""

    OVERLAY_LIMIT = 20_000

    def __init__(self, ids: np.ndarray, days: np.ndarray, values: np.ndarray):
        order = np.argsort(days, kind="stable")
        self.ids = ids[order].astype(np.int64)
        self.days = days[order].astype(np.int64)
        self.values = values[order].astype(float)
        self.masked = np.empty(0, dtype=np.int64)
        self.overlay = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))

    @classmethod
    def empty(cls) -> "DayLog":
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))

    def patched(self, changed: np.ndarray, ids: np.ndarray, days: np.ndarray, values: np.ndarray) -> "DayLog":
        o_ids, o_days, o_values = self.overlay
        keep = ~np.isin(o_ids, changed)
        log = copy.copy(self)
        log.masked = np.union1d(self.masked, changed)
        log.overlay = (np.concatenate([o_ids[keep], ids]), np.concatenate([o_days[keep], days]),
                       np.concatenate([o_values[keep], values]))
        if len(log.masked) > self.OVERLAY_LIMIT:
            base = ~np.isin(self.ids, log.masked)
            return DayLog(np.concatenate([self.ids[base], log.overlay[0]]), np.concatenate([self.days[base], log.overlay[1]]),
                          np.concatenate([self.values[base], log.overlay[2]]))
        return log

    def totals(self, start_day: int, size: int, *, count: bool) -> np.ndarray:
        """Per customer (a dense array indexed by id): rows on or after start_day, counted or summed."""
        at = int(np.searchsorted(self.days, start_day, side="left"))
        weights = None if count else self.values[at:]
        result = np.bincount(self.ids[at:], weights=weights, minlength=size)[:size].astype(float)
        if len(self.masked):
            result[self.masked[self.masked < size]] = 0
        o_ids, o_days, o_values = self.overlay
        recent = o_days >= start_day
        if recent.any():
            result += np.bincount(o_ids[recent], weights=None if count else o_values[recent], minlength=size)[:size]
        return result


class ActivityIndex:
    """Published instances are never modified: built() and patched() return new ones."""

    def __init__(self):
        self.last_buy: dict[int, NumericColumn] = {}
        self.last_buy_type: dict[str, NumericColumn] = {}
        self.holders: dict[int, BitMap] = {}
        self.last_transaction = NumericColumn(np.empty(0, dtype=np.uint32), np.empty(0))
        self.recent = DayLog.empty()
        self.events: dict[str, DayLog] = {}
        self.snapshots = pd.DataFrame({"customer_id": [], "day": [], "total": []})
        self.horizon_day = 0  # rows older than this were not read
        self._dense: dict = {}  # (name, day) → dense per-customer values, for this instance
        self._answers: dict = {}  # a condition's key → its customers, for this instance

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def built(cls, today: date) -> "ActivityIndex":
        index = cls()
        index.horizon_day = day_number(today) - max(RECENT_DAYS, EVENT_DAYS, SNAPSHOT_DAYS)
        buys = _read_buys(None)
        index.last_buy = _columns_by(buys, "product_id")
        index.last_buy_type = _columns_by(buys, "type")
        index.holders = _holders(_read_current_holdings(None))
        last = _read_last_transactions(None)
        index.last_transaction = NumericColumn(last["customer_id"].to_numpy(), _days(last["day"]).astype(float))
        recent = _read_recent_transactions(None, today)
        index.recent = DayLog(recent["customer_id"].to_numpy(), _days(recent["day"]), recent["amount"].to_numpy())
        events = _read_events(None, today)
        index.events = {kind: DayLog(rows["customer_id"].to_numpy(), _days(rows["day"]), np.ones(len(rows)))
                        for kind, rows in events.groupby("type")}
        index.snapshots = _snapshot_frame(_read_snapshot_totals(None, today))
        return index

    def patched(self, customer_ids: list[int], today: date) -> "ActivityIndex":
        changed = BitMap(customer_ids)
        changed_array = np.asarray(customer_ids, dtype=np.int64)
        index = copy.copy(self)
        # One look first: most patches (a tag added, a customer edited) touch customers without any
        # activity, and then none of the six reads below is needed (the structures still drop them).
        found = _tables_with_rows(customer_ids)
        transactions = customer_ids if "transactions" in found else []
        events_of = customer_ids if "events" in found else []
        holdings = customer_ids if "holdings" in found else []
        buys = _read_buys(transactions)
        index.last_buy = _patched_columns(self.last_buy, changed, buys, "product_id")
        index.last_buy_type = _patched_columns(self.last_buy_type, changed, buys, "type")
        fresh_holders = _holders(_read_current_holdings(holdings))
        index.holders = {key: members - changed for key, members in self.holders.items()}
        for key, members in fresh_holders.items():
            index.holders[key] = index.holders.get(key, BitMap()) | members
        last = _read_last_transactions(transactions)
        index.last_transaction = self.last_transaction.patched(
            changed, last["customer_id"].to_numpy(), _days(last["day"]).astype(float))
        recent = _read_recent_transactions(transactions, today)
        index.recent = self.recent.patched(changed_array, recent["customer_id"].to_numpy(dtype=np.int64),
                                           _days(recent["day"]), recent["amount"].to_numpy(dtype=float))
        events = _read_events(events_of, today)
        fresh = dict(tuple(events.groupby("type")))
        index.events = {}
        for kind in set(self.events) | set(fresh):
            rows = fresh.get(kind, events.iloc[0:0])
            index.events[kind] = self.events.get(kind, DayLog.empty()).patched(
                changed_array, rows["customer_id"].to_numpy(dtype=np.int64), _days(rows["day"]), np.ones(len(rows)))
        snapshots = _snapshot_frame(_read_snapshot_totals(holdings, today))
        index.snapshots = pd.concat([self.snapshots[~self.snapshots["customer_id"].isin(customer_ids)], snapshots],
                                    ignore_index=True)
        index._dense, index._answers = {}, {}
        return index

    def forgetting_answers(self) -> "ActivityIndex":
        """The same data without the remembered answers: after a patch of attributes or tags only, some
        answers (trades_30d = 0, did(…) = 0) depend on a universe that may have changed."""
        index = copy.copy(self)
        index._dense, index._answers = {}, {}
        return index

    # --- evaluation ------------------------------------------------------------------------------

    def condition(self, node: dict, today: date, universe: BitMap, universe_ids: np.ndarray) -> BitMap:
        """The customers a resolved behaviour condition selects (a copy: callers may change it)."""
        return BitMap(self._remembered(("condition", _frozen(node), today),
                                       lambda: self._condition(node, today, universe, universe_ids)))

    def field(self, name: str, op: str, value, today: date, universe: BitMap, universe_ids: np.ndarray) -> BitMap:
        return BitMap(self._remembered(("field", name, op, _frozen(value), today),
                                       lambda: self._field(name, op, value, today, universe, universe_ids)))

    def _remembered(self, key, compute) -> BitMap:
        """Answers are kept per index and day: while a marketer types, the same parts come back on every
        keystroke, and comparing a million per-customer counts costs ~10 ms each time. A patched index
        starts with none, so an answer is never older than the data."""
        found = self._answers.get(key)
        if found is None:
            if len(self._answers) >= 256:
                self._answers.clear()
            found = self._answers[key] = compute()
        return found

    def _condition(self, node: dict, today: date, universe: BitMap, universe_ids: np.ndarray) -> BitMap:
        kind = node["activity"]
        if kind == "holds":
            return BitMap(self.holders.get(node["product_id"], BitMap()))
        if kind == "bought":
            column = (self.last_buy.get(node["product_id"]) if "product_id" in node
                      else self.last_buy_type.get(node["product_type"]))
            if column is None:
                return BitMap()
            if "days" not in node:
                return BitMap(column.present)
            return column.range(day_number(today) - node["days"] + 1, True, None, True)
        start = day_number(today) - node["days"] + 1
        counts = self._cached(("did", node["event"], start), universe_ids, lambda size: self.events.get(
            node["event"], DayLog.empty()).totals(start, size, count=True))
        return _compare(counts, universe_ids, node["op"], node["value"])

    def _field(self, name: str, op: str, value, today: date, universe: BitMap, universe_ids: np.ndarray) -> BitMap:
        if name == "recency_days":
            return self._recency(op, value, today, universe)
        start = day_number(today) - WINDOW_30 + 1
        if name == "trades_30d":
            dense = self._cached(("trades", start), universe_ids,
                                 lambda size: self.recent.totals(start, size, count=True))
        elif name == "amount_30d":
            dense = self._cached(("amount", start), universe_ids,
                                 lambda size: self.recent.totals(start, size, count=False))
            value = [round(float(item), 2) for item in value] if isinstance(value, list) else round(float(value), 2)
            dense = np.round(dense, 2)
        else:
            dense = self._cached(("asset_change", day_number(today)), universe_ids,
                                 lambda size: self._asset_change(day_number(today), size))
        if op == "isnull":
            present = ~np.isnan(dense[universe_ids])
            return bitmap_of(universe_ids[~present if value else present])
        if op == "in":
            return BitMap.union(BitMap(), *(_compare(dense, universe_ids, "eq", item) for item in value))
        if op == "between":
            return _compare(dense, universe_ids, "gte", value[0]) & _compare(dense, universe_ids, "lte", value[1])
        return _compare(dense, universe_ids, op, value)

    def _cached(self, key, universe_ids: np.ndarray, compute) -> np.ndarray:
        size = int(universe_ids[-1]) + 1 if len(universe_ids) else 1
        found = self._dense.get(key)
        if found is None or len(found) < size:
            found = self._dense[key] = compute(size)
        return found

    def _recency(self, op: str, value, today: date, universe: BitMap) -> BitMap:
        """recency_days = today − the day of the last transaction, as ranges over that day."""
        column, now = self.last_transaction, day_number(today)
        if op == "isnull":
            return universe - column.present if value else BitMap(column.present)
        if op == "in":
            return BitMap.union(BitMap(), *(self._recency("eq", item, today, universe) for item in value))
        if op == "between":
            return column.range(now - value[1], True, now - value[0], True)
        if op == "ne":
            return column.present - column.range(now - value, True, now - value, True)
        bounds = {"eq": (now - value, True, now - value, True), "lt": (now - value, False, None, True),
                  "lte": (now - value, True, None, True), "gt": (None, True, now - value, False),
                  "gte": (None, True, now - value, True)}[op]
        return column.range(*bounds)

    def _asset_change(self, today_day: int, size: int) -> np.ndarray:
        """Per customer: (latest snapshot total − the latest total on or before today − 30) / that total;
        NaN without a snapshot on each side of that day, or with a base of 0."""
        result = np.full(size, np.nan)
        frame = self.snapshots
        if frame.empty:
            return result
        base_day = today_day - WINDOW_30
        latest = frame.groupby("customer_id").tail(1)
        before = frame[frame["day"] <= base_day].groupby("customer_id").tail(1).set_index("customer_id")["total"]
        latest = latest[latest["day"] > base_day].set_index("customer_id")["total"]
        both = latest.index.intersection(before.index)
        base = before.loc[both].to_numpy(dtype=float)
        change = np.where(base > 0, (latest.loc[both].to_numpy(dtype=float) - base) / np.where(base > 0, base, 1), np.nan)
        ids = both.to_numpy(dtype=np.int64)
        inside = ids < size
        result[ids[inside]] = change[inside]
        return result


def _frozen(value):
    """A hashable form of a condition or a value (dicts and lists inside)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _compare(dense: np.ndarray, universe_ids: np.ndarray, op: str, value) -> BitMap:
    values = dense[universe_ids]
    mask = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "lte": np.less_equal, "gt": np.greater,
            "gte": np.greater_equal}[op](values, float(value))
    if op == "ne":
        mask &= ~np.isnan(values)
    return bitmap_of(universe_ids[mask])


def _columns_by(buys: pd.DataFrame, key: str) -> dict:
    if buys.empty:
        return {}
    per_key = buys.groupby(["customer_id", key], as_index=False)["day"].max()
    return {_plain(value): NumericColumn(rows["customer_id"].to_numpy(), rows["day"].to_numpy(dtype=float))
            for value, rows in per_key.groupby(key)}


def _patched_columns(columns: dict, changed: BitMap, buys: pd.DataFrame, key: str) -> dict:
    fresh = buys.groupby(["customer_id", key], as_index=False)["day"].max() if not buys.empty else buys
    groups = {_plain(value): rows for value, rows in fresh.groupby(key)} if not fresh.empty else {}
    result = dict(columns)
    for value in set(columns) | set(groups):
        rows = groups.get(value)
        ids = rows["customer_id"].to_numpy() if rows is not None else np.empty(0, dtype=np.int64)
        days = rows["day"].to_numpy(dtype=float) if rows is not None else np.empty(0)
        column = columns.get(value)
        if column is None:
            result[value] = NumericColumn(ids, days)
        elif column.present.intersect(changed) or len(ids):
            result[value] = column.patched(changed, ids, days)
    return result


def _plain(value):
    return int(value) if isinstance(value, (np.integer, float)) and float(value).is_integer() else value


def _holders(rows: pd.DataFrame) -> dict[int, BitMap]:
    return {int(product): bitmap_of(group["customer_id"].to_numpy()) for product, group in rows.groupby("product_id")}


def _snapshot_frame(rows: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(dtype=np.int64), "day": _days(rows["day"]),
                          "total": pd.to_numeric(rows["total"]).to_numpy(dtype=float)})
    return frame.sort_values(["customer_id", "day"], kind="stable").reset_index(drop=True)


# --- reading -------------------------------------------------------------------------------------

def _read(select: str, source: str, names: list[str], ids: list[int] | None) -> pd.DataFrame:
    """`SELECT select FROM source` for everyone (COPY on PostgreSQL), or for these customers:
    `source` then holds `{ids}` where their id list goes (read in chunks)."""
    if ids is None:
        return read_frame(select, source, names, key="customer_id", ids=None)
    if not ids:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    rows = []
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            cursor.execute(f"SELECT {select} FROM " + source.replace("{ids}", ",".join(["%s"] * len(chunk))),
                           chunk * source.count("{ids}"))
            rows.extend(cursor.fetchall())
    return pd.DataFrame(rows, columns=names)


def _tables_with_rows(ids: list[int]) -> set[str]:
    """Which activity tables hold rows of these customers (one query; all three for a long list)."""
    if len(ids) > 5000:
        return {"transactions", "events", "holdings"}
    placeholders = ",".join(["%s"] * len(ids))
    tables = {"transactions": Transaction, "events": Event, "holdings": Holding}
    checks = ", ".join(f"EXISTS (SELECT 1 FROM {model._meta.db_table} WHERE customer_id IN ({placeholders}))"
                       for model in tables.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {checks}", list(ids) * len(tables))
        flags = cursor.fetchone()
    return {name for name, flag in zip(tables, flags, strict=True) if flag}


def _read_buys(ids) -> pd.DataFrame:
    tx, products = Transaction._meta.db_table, Product._meta.db_table
    frame = _read("t.customer_id, t.product_id, p.type, MAX(t.occurred_on)",
                  f"{tx} t JOIN {products} p ON p.id = t.product_id WHERE t.kind = 'buy'"
                  + ("" if ids is None else " AND t.customer_id IN ({ids})")
                  + " GROUP BY t.customer_id, t.product_id, p.type",
                  ["customer_id", "product_id", "type", "day"], ids)
    frame["day"] = _days(frame["day"]).astype(float)
    return frame


def _read_last_transactions(ids) -> pd.DataFrame:
    tx = Transaction._meta.db_table
    return _read("customer_id, MAX(occurred_on)", f"{tx} WHERE 1 = 1"
                 + ("" if ids is None else " AND customer_id IN ({ids})") + " GROUP BY customer_id",
                 ["customer_id", "day"], ids)


def _read_recent_transactions(ids, today: date) -> pd.DataFrame:
    tx = Transaction._meta.db_table
    since = (today - timedelta(days=RECENT_DAYS)).isoformat()
    frame = _read("customer_id, occurred_on, CAST(amount AS FLOAT)" if connection.vendor == "sqlite"
                  else "customer_id, occurred_on, amount::float8",
                  f"{tx} WHERE occurred_on >= '{since}'" + ("" if ids is None else " AND customer_id IN ({ids})"),
                  ["customer_id", "day", "amount"], ids)
    frame["amount"] = pd.to_numeric(frame["amount"]).astype(float)
    return frame


def _read_events(ids, today: date) -> pd.DataFrame:
    since = (today - timedelta(days=EVENT_DAYS)).isoformat()
    return _read("customer_id, type, occurred_on", f"{Event._meta.db_table} WHERE occurred_on >= '{since}'"
                 + ("" if ids is None else " AND customer_id IN ({ids})"), ["customer_id", "type", "day"], ids)


def _read_current_holdings(ids) -> pd.DataFrame:
    table = Holding._meta.db_table
    inner = "" if ids is None else " WHERE customer_id IN ({ids})"
    return _read("h.customer_id, h.product_id",
                 f"{table} h JOIN (SELECT customer_id, MAX(as_of) AS last_day FROM {table}{inner} GROUP BY customer_id) "
                 "l ON l.customer_id = h.customer_id AND l.last_day = h.as_of WHERE h.amount > 0",
                 ["customer_id", "product_id"], ids)


def _read_snapshot_totals(ids, today: date) -> pd.DataFrame:
    since = (today - timedelta(days=SNAPSHOT_DAYS)).isoformat()
    total = "CAST(SUM(amount) AS FLOAT)" if connection.vendor == "sqlite" else "SUM(amount)::float8"
    return _read(f"customer_id, as_of, {total}", f"{Holding._meta.db_table} WHERE as_of >= '{since}'"
                 + ("" if ids is None else " AND customer_id IN ({ids})") + " GROUP BY customer_id, as_of",
                 ["customer_id", "day", "total"], ids)

