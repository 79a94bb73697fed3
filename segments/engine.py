"""The audience engine: roaring bitmaps of every tag and attribute, kept in each process.

Why in memory: DESIGN.md measured 185–2,177 ms per count for junction-table SQL, 2–137 ms for a
GIN-indexed int[], and 0.01–0.07 ms for roaring bitmaps. Each web or worker process holds its own
AudienceIndex. Before every answer it asks the change feed (customers.changes, written by database
triggers) what changed since its position — one indexed read — and patches just those customers, or
rebuilds. An index is never modified once published: a refresh makes a new one (sharing every
bitmap it did not touch) and swaps the reference, so a reader in another thread never sees a
half-patched index.
"""

import copy
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.utils import timezone
from pyroaring import BitMap

from customers import changes
from customers.models import Customer, CustomerTag

from .activity_index import ActivityIndex
from .columns import NumericColumn, bitmap_of, comparison_bounds, read_frame
from .fields import ACTIVITY_FIELDS
from .score_index import SCORE_FIELDS, ScoreIndex
from .timebounds import birth_date_bounds, day_bounds

logger = logging.getLogger(__name__)

CATEGORICAL = ("branch", "owner", "lifecycle_stage", "gender", "risk_level")
NUMERIC = ("assets", "birth_day", "created_ts")
PATCH_LIMIT = 50_000  # more changed customers than this since the last look: rebuild instead
EPOCH_DAY = date(1970, 1, 1).toordinal()
_CUSTOMER_COLUMNS = {
    "postgresql": ("id, branch_id, owner_id, lifecycle_stage, gender, risk_level, assets::float8, "
                   "(birth_date - DATE '1970-01-01'), EXTRACT(EPOCH FROM created_at)"),
    "sqlite": ("id, branch_id, owner_id, lifecycle_stage, gender, risk_level, CAST(assets AS REAL), "
               "CAST(julianday(birth_date) - 2440587.5 AS INTEGER), CAST(strftime('%%s', created_at) AS INTEGER)"),
}
_FRAME_COLUMNS = ["id", "branch", "owner", "lifecycle_stage", "gender", "risk_level", "assets", "birth_day", "created_ts"]


@dataclass
class Audience:
    """The customers an expression selects, as a bitmap of ids."""

    bitmap: BitMap
    took_ms: float = 0.0
    total: int | None = None  # customers in the index that answered (for the share)
    catching_up: bool = False  # answered from the previous index while a rebuild runs (previews only)
    as_of: datetime | None = None  # when the answering index last caught up with the change feed

    @property
    def count(self) -> int:
        return len(self.bitmap)

    def ids(self) -> list[int]:
        return list(self.bitmap)

    def sample(self, size: int = 10) -> list[int]:
        """Ids spread evenly over the audience (stable for the same audience)."""
        total = len(self.bitmap)
        if total <= size:
            return list(self.bitmap)
        return [self.bitmap[int(index * total / size)] for index in range(size)]

    def page(self, offset: int, limit: int) -> list[int]:
        total = len(self.bitmap)
        return [self.bitmap[index] for index in range(offset, min(offset + limit, total))]


class AudienceIndex:
    """Bitmaps for every tag and attribute value of every customer, built from the database.

    Published indexes are never modified: rebuilt() and patched() return new ones.
    """

    def __init__(self):
        self.position: changes.Position | None = None
        self.universe = BitMap()
        self.tags: dict[int, BitMap] = {}
        self.categorical: dict[str, dict] = {name: {} for name in CATEGORICAL}
        self.numeric: dict[str, NumericColumn] = {
            name: NumericColumn(np.empty(0, dtype=np.uint32), np.empty(0)) for name in NUMERIC}
        self.activity = ActivityIndex()
        self.scores = ScoreIndex()
        self._universe_ids: np.ndarray | None = None
        self.built_at = 0.0
        self.private = False  # read inside a transaction with uncommitted customer changes: never shared
        self.catching_up = False  # a copy handed out while a rebuild runs (current_index(previous_ok=True))

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def built(cls) -> "AudienceIndex":
        """A new index of every customer, positioned where the feed stood before reading."""
        started = time.perf_counter()
        index = cls()
        index.position = changes.current_position()  # first: later changes are patched in again
        frame = _read_customers(None)
        ids = frame.index.to_numpy()
        index.universe = bitmap_of(ids)
        index.categorical = {name: _value_bitmaps(frame[name]) for name in CATEGORICAL}
        # Only the sorted numeric columns are kept: a million Python strings per column would cost
        # ~60 MB each in every process.
        index.numeric = {name: NumericColumn(ids, frame[name].to_numpy(dtype=float)) for name in NUMERIC}
        index.tags = _read_tag_bitmaps(None)
        index.activity = ActivityIndex.built(timezone.localdate())
        index.scores = ScoreIndex.built(None).current()
        index.built_at = time.time()
        index.private = changes.has_uncommitted_changes()
        logger.info("audience index built: %d customers, %d tags in %.2f s", len(index.universe), len(index.tags),
                    time.perf_counter() - started)
        return index

    def patched(self, customer_ids: set[int], position: changes.Position, *, private: bool = False,
                profile_ids: set[int] | None = None, activity_ids: set[int] | None = None) -> "AudienceIndex":
        """A new index where these customers are read afresh; bitmaps they do not touch are shared.

        `profile_ids` / `activity_ids`: those of them whose attributes or tags / whose behaviour changed,
        each part read again only for its own customers (None: that part for all of them)."""
        profile_ids = set(customer_ids) if profile_ids is None else set(profile_ids)
        index = copy.copy(self)
        index.position, index.private = position, private
        removed = set()
        if profile_ids:
            changed = BitMap(profile_ids)
            fresh = _read_customers(sorted(profile_ids))
            fresh_ids = fresh.index.to_numpy()
            removed = profile_ids - set(fresh_ids.tolist())
            index.universe = (self.universe - changed) | bitmap_of(fresh_ids)
            index.categorical = {name: _patched_bitmaps(self.categorical[name], changed, _value_bitmaps(fresh[name]))
                                 for name in CATEGORICAL}
            index.tags = _patched_bitmaps(self.tags, changed, _read_tag_bitmaps(sorted(profile_ids)))
            index.numeric = {name: column.patched(changed, fresh_ids, fresh[name].to_numpy(dtype=float))
                             for name, column in self.numeric.items()}
            index._universe_ids = None
        # A deleted customer's activity goes too (the cascade logs it as well; this does not rely on it).
        behaviour = set(customer_ids) if activity_ids is None else set(activity_ids) | removed
        if behaviour:
            index.activity = self.activity.patched(sorted(behaviour), timezone.localdate())
        else:
            index.activity = self.activity.forgetting_answers()
        return index

    def refreshed(self, *, rebuild: bool = True) -> "AudienceIndex | None":
        """This index if nothing changed since its position, else a patched or rebuilt one (None when
        a rebuild is due and `rebuild` is False)."""
        if self.position is None:
            return AudienceIndex.built() if rebuild else None
        news = changes.changes_since(self.position, limit=PATCH_LIMIT)
        if news.customer_ids is None:
            return AudienceIndex.built() if rebuild else None
        if not news.customer_ids:
            index = self
            if news.position != self.position:
                index = copy.copy(self)
                index.position = news.position
        else:
            # A tag or attribute change skips the activity reads, an activity change the others.
            index = self.patched(news.customer_ids, news.position, private=news.uncommitted,
                                 profile_ids=news.profile_ids, activity_ids=news.activity_ids)
        scores = index.scores.current()
        if scores is not index.scores:
            index = copy.copy(index) if index is self else index
            index.scores = scores
        return index

    # --- evaluation ------------------------------------------------------------------------------

    def evaluate(self, node: dict, today: date | None = None) -> BitMap:
        """The customers a resolved tree (segments.compiler.resolve) selects."""
        today = today or timezone.localdate()
        if "tag_id" in node:
            return BitMap(self.tags.get(node["tag_id"], BitMap()))
        if "all" in node:
            # Narrow from the smallest part: intersections then stay small.
            parts = sorted((self.evaluate(child, today) for child in node["all"]), key=len)
            result = parts[0]
            for part in parts[1:]:
                result &= part
            return result
        if "any" in node:
            return BitMap.union(*(self.evaluate(child, today) for child in node["any"]))
        if "not" in node:
            return self.universe - self.evaluate(node["not"], today)
        if "activity" in node:
            return self.activity.condition(node, today, self.universe, self.universe_ids()) & self.universe
        return self._field(node["field"], node["op"], node["value"], today)

    def universe_ids(self) -> np.ndarray:
        """Every customer id, ascending, as an array (for dense per-customer comparisons)."""
        if self._universe_ids is None:
            self._universe_ids = np.asarray(self.universe.to_array(), dtype=np.int64)
        return self._universe_ids

    def _field(self, name: str, op: str, value, today: date) -> BitMap:
        if op == "in":
            return BitMap.union(BitMap(), *(self._field(name, "eq", item, today) for item in value))
        if name in ("branch", "owner", "lifecycle_stage", "gender", "risk_level"):
            return self._categorical(name, op, value)
        if name in SCORE_FIELDS:
            return self.scores.field(name, op, value, self.universe) & self.universe
        if name in ACTIVITY_FIELDS:
            return self.activity.field(name, op, value, today, self.universe, self.universe_ids()) & self.universe
        column, non_null = self._column(name)
        if op == "isnull":
            return self.universe - non_null if value else BitMap(non_null)
        if op == "ne":
            return non_null - self._field(name, "eq", value, today)
        if op == "between":
            return self._field(name, "gte", value[0], today) & self._field(name, "lte", value[1], today)
        if name == "assets":
            return column.range(*comparison_bounds(op, float(value)))
        if name == "age":
            low, low_inclusive, high, high_inclusive = birth_date_bounds(op, int(value), today)
            return column.range(
                None if low is None else low.toordinal() - EPOCH_DAY, low_inclusive,
                None if high is None else high.toordinal() - EPOCH_DAY, high_inclusive,
            )
        start, end = day_bounds(op, date.fromisoformat(value) if isinstance(value, str) else value)
        return column.range(None if start is None else start.timestamp(), True,
                            None if end is None else end.timestamp(), False)

    def ordered_ids(self, members: BitMap, key: str, descending: bool, offset: int, limit: int, *,
                    labels: dict | None = None) -> list[int]:
        """`limit` of `members` from rank `offset`, ordered by id, a numeric column or a categorical one
        (its keys sorted by `labels` where given: branch codes, usernames). As PostgreSQL orders: no
        value last going up, first going down; descending is the exact reverse of ascending."""
        total = len(members)
        stop = min(offset + limit, total)
        if offset >= stop:
            return []
        ranks = range(offset, stop) if not descending else range(total - 1 - offset, total - 1 - stop, -1)
        if key == "id":
            return [members[rank] for rank in ranks]
        if key in self.numeric:
            ordered = self.numeric[key].ordered(members)
            return ordered[np.fromiter(ranks, dtype=np.int64)].tolist()
        values = self.categorical[key]
        # With labels, every key sorts as text: a branch or user deleted since the last build has no label
        # and must not be compared as an int with the codes.
        keys = sorted((value for value in values if value is not None),
                      key=(lambda value: str(labels.get(value, value))) if labels is not None else None)
        parts = [members & values[value] for value in keys]
        if None in values:
            parts.append(members & values[None])
        missing = members - BitMap.union(BitMap(), *parts)  # members with a value no bitmap lists: none
        if missing:
            parts.append(missing)
        return _ranked(parts, list(ranks))

    def assets_between(self, low: float | None, high: float | None) -> BitMap:
        """Customers with low <= assets < high (either bound may be open)."""
        return self.numeric["assets"].range(low, True, high, False)

    def _column(self, name: str) -> tuple[NumericColumn, BitMap]:
        column = self.numeric[{"assets": "assets", "age": "birth_day", "created_at": "created_ts"}[name]]
        return column, column.present

    def _categorical(self, name: str, op: str, value) -> BitMap:
        values = self.categorical[name]
        nulls = values.get(None, BitMap())
        if op == "isnull":
            return BitMap(nulls) if value else self.universe - nulls
        if op == "eq":
            return BitMap(values.get(value, BitMap()))
        if op == "ne":
            return self.universe - nulls - values.get(value, BitMap())
        test = {"lt": lambda key: key < value, "lte": lambda key: key <= value, "gt": lambda key: key > value,
                "gte": lambda key: key >= value,
                "between": lambda key: value[0] <= key <= value[1]}[op]
        return BitMap.union(BitMap(), *(bitmap for key, bitmap in values.items() if key is not None and test(key)))


def _ranked(parts: list[BitMap], ranks: list[int]) -> list[int]:
    """The ids at these ranks of the concatenation of parts (each in id order)."""
    starts = np.cumsum([0] + [len(part) for part in parts])
    result = []
    for rank in ranks:
        which = int(np.searchsorted(starts, rank, side="right")) - 1
        result.append(parts[which][rank - int(starts[which])])
    return result


def _patched_bitmaps(bitmaps: dict, changed: BitMap, fresh: dict) -> dict:
    """Bitmaps with the changed customers taken out and their fresh memberships put in (copies only where touched)."""
    result = dict(bitmaps)
    for key, members in bitmaps.items():
        if members.intersect(changed):
            result[key] = members - changed
    for key, members in fresh.items():
        result[key] = result[key] | members if key in result else members
    return result


def _value_bitmaps(column: pd.Series) -> dict:
    result = {}
    keys = column.astype(object).where(column.notna(), None)
    for value, positions in keys.groupby(keys, dropna=False).groups.items():
        key = None if value is None or (isinstance(value, float) and math.isnan(value)) else _key(value)
        result[key] = bitmap_of(np.asarray(positions))
    return result


def _key(value):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _read_customers(ids: list[int] | None) -> pd.DataFrame:
    columns = _CUSTOMER_COLUMNS["postgresql" if connection.vendor == "postgresql" else "sqlite"]
    frame = read_frame(columns, Customer._meta.db_table, _FRAME_COLUMNS, key="id", ids=ids)
    for name in NUMERIC:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame.set_index("id")


def _read_tag_bitmaps(ids: list[int] | None) -> dict[int, BitMap]:
    links = read_frame("tag_id, customer_id", CustomerTag._meta.db_table, ["tag_id", "customer_id"],
                        key="customer_id", ids=ids, dtype="int64")
    if links.empty:
        return {}
    links = links.sort_values(["tag_id", "customer_id"], kind="stable")
    tag_ids = links["tag_id"].to_numpy()
    customer_ids = links["customer_id"].to_numpy()
    boundaries = np.flatnonzero(np.diff(tag_ids)) + 1
    starts = np.concatenate([[0], boundaries])
    stops = np.concatenate([boundaries, [len(tag_ids)]])
    return {int(tag_ids[start]): bitmap_of(customer_ids[start:stop]) for start, stop in zip(starts, stops, strict=True)}


# --- the process-wide index --------------------------------------------------------------------

_lock = threading.Lock()  # one refresh at a time per process; readers of a published index need none
_index = AudienceIndex()


def current_index(*, previous_ok: bool = False) -> AudienceIndex:
    """This process's index, brought up to the latest committed data first.

    `previous_ok` (previews): when the next step is a whole rebuild — a change too large to patch, the
    feed pruned — answer from the index as it stood, marked `catching_up`, while the rebuild runs in the
    background (AUDIENCE_INDEX_BACKGROUND_BUILD), instead of making every preview of every process wait
    for it (a 100k-row import blocked previews for 40–46 s). Launches, exports and saved segments never
    pass it: they wait for the exact index."""
    global _index
    if previous_ok and settings.AUDIENCE_INDEX_BACKGROUND_BUILD and _index.position is not None:
        fresh = index_if_ready()
        if fresh is not None:
            return fresh
        previous = copy.copy(_index)
        previous.catching_up = True
        return previous
    with _lock:
        fresh = _index.refreshed()
        if not fresh.private:  # what the caller's own transaction may roll back stays with the caller
            _index = fresh
        return fresh


def index_if_ready(*, wait_s: float = 0.5) -> AudienceIndex | None:
    """The current index when this process can have it without a build, else None — the caller
    answers another way (the customer list: SQL) while a build runs in the background
    (AUDIENCE_INDEX_BACKGROUND_BUILD). A patch in progress is waited for up to `wait_s`."""
    global _index
    if not _lock.acquire(timeout=wait_s):
        return None
    try:
        fresh = _index.refreshed(rebuild=False)
        if fresh is None:
            _build_in_background()
            return None
        if not fresh.private:
            _index = fresh
        return fresh
    finally:
        _lock.release()


_background = threading.Lock()  # at most one background build per process


def _build_in_background() -> None:
    if not settings.AUDIENCE_INDEX_BACKGROUND_BUILD or not _background.acquire(blocking=False):
        return

    def build():
        global _index
        try:
            # Built outside the lock: readers keep patching and answering from the previous index
            # meanwhile; the next refresh patches in what changed during the build.
            fresh = AudienceIndex.built()
            with _lock:
                _index = fresh
        except Exception:
            logger.exception("background build of the audience index failed")
        finally:
            connection.close()
            _background.release()

    threading.Thread(target=build, name="build-audience-index", daemon=True).start()


def reset() -> None:
    """Forget this process's index (the next answer rebuilds it)."""
    global _index
    with _lock:
        _index = AudienceIndex()


def evaluate(resolved: dict, *, previous_ok: bool = False) -> Audience:
    """The audience of a resolved expression, with the time the engine took (see current_index for
    `previous_ok`)."""
    started = time.perf_counter()
    index = current_index(previous_ok=previous_ok)
    bitmap = index.evaluate(resolved)
    return Audience(bitmap=bitmap, took_ms=(time.perf_counter() - started) * 1000, total=len(index.universe),
                    catching_up=index.catching_up, as_of=index.position.read_at if index.position else None)
