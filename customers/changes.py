"""Which customers changed since a reader last looked: the feed every audience index follows.

Database triggers (migration 0002) write one CustomerChange row per customer touched by any
insert, update or delete of a customer or a tag link — the ORM, raw SQL, COPY, the admin and
cascades alike — so no writer has to remember to record its change. No shared counter is bumped,
so writers never queue behind one another (the DataVersion row this replaced was locked by every
customer write until commit).

A reader's position:
- PostgreSQL: the snapshot it last read in (`pg_current_snapshot()`). A change is new to the
  reader when its transaction was not visible in that snapshot; a transaction still running then
  is caught on a later look, because it is invisible in every snapshot taken before it commits.
  A reader's own uncommitted writes (a test, or a job that writes customers and then counts) are
  re-read on every look, since no snapshot lists its own transaction as running, and the index that
  includes them stays private to that reader (`Changes.uncommitted`): it may still roll back.
- SQLite: the highest change id it has read. SQLite has one writer at a time and the id is drawn
  under its write lock, so ids become visible in commit order.
The position and the changes are read in one statement, so they agree.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import CustomerChange, DataVersion

# A single statement touching more customers than this logs one "everything" row (PostgreSQL).
LIST_LIMIT = 20_000


@dataclass(frozen=True)
class Position:
    """Where a reader stands in the feed: the database's epoch and a vendor-specific mark."""

    epoch: str
    mark: str | int
    read_at: datetime


@dataclass(frozen=True)
class Changes:
    """What changed since a position: customer ids, or None when the reader must start over."""

    position: Position
    customer_ids: set[int] | None
    # The reader's own transaction has uncommitted customer changes: what it reads now may be
    # rolled back, so an index built from it must not be shared with the rest of the process.
    uncommitted: bool = False
    # Of customer_ids, those whose attributes or tags changed, and those whose activity did (a customer
    # may be in both); a reader re-reads each part only for its own customers.
    profile_ids: frozenset[int] = frozenset()
    activity_ids: frozenset[int] = frozenset()


def _epoch() -> tuple[str, datetime | None]:
    row = DataVersion.objects.filter(pk=1).values_list("epoch", "pruned_before").first()
    if row is None:  # a flushed database (TransactionTestCase) or one made without migrations' data
        made, _created = DataVersion.objects.get_or_create(pk=1)
        row = (made.epoch, made.pruned_before)
    return str(row[0]), row[1]


def current_position() -> Position:
    """The feed's position now (take it before reading the data it describes)."""
    epoch, _pruned = _epoch()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_current_snapshot()::text")
        else:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {CustomerChange._meta.db_table}")
        mark = cursor.fetchone()[0]
    return Position(epoch=epoch, mark=mark, read_at=timezone.now())


def changes_since(position: Position, *, limit: int) -> Changes:
    """The customers changed since `position`; None when more than `limit`, pruned, or another database."""
    epoch, pruned_before = _epoch()
    table = CustomerChange._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT pg_current_snapshot()::text, ARRAY(SELECT DISTINCT ARRAY[customer_id, activity::int] FROM {table} "
                "WHERE (txid >= pg_snapshot_xmin(%s::pg_snapshot)::text::bigint "
                "AND NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot)) "
                # A snapshot never lists its own transaction as running, so the reader's own
                # uncommitted writes look "already seen": they are always re-read instead.
                "OR txid = pg_current_xact_id_if_assigned()::text::bigint LIMIT %s), "
                f"EXISTS(SELECT 1 FROM {table} WHERE txid = pg_current_xact_id_if_assigned()::text::bigint)",
                [position.mark, position.mark, limit + 1],
            )
            mark, pairs, uncommitted = cursor.fetchone()
        else:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            mark = cursor.fetchone()[0]
            cursor.execute(f"SELECT DISTINCT customer_id, activity FROM {table} WHERE id > %s AND id <= %s LIMIT %s",
                           [position.mark, mark, limit + 1])
            pairs = cursor.fetchall()
            uncommitted = False  # SQLite: see the rollback check below
            if mark < position.mark:  # rows this reader saw were rolled back (their ids will be reused)
                pairs = [(None, False)]
    now = Position(epoch=epoch, mark=mark, read_at=timezone.now())
    lost = epoch != position.epoch or (pruned_before is not None and pruned_before > position.read_at)
    ids = {pk for pk, _activity in pairs}
    if lost or len(pairs) > limit or None in ids:
        return Changes(position=now, customer_ids=None, uncommitted=uncommitted)
    return Changes(position=now, customer_ids=ids, uncommitted=uncommitted,
                   profile_ids=frozenset(pk for pk, activity in pairs if not activity),
                   activity_ids=frozenset(pk for pk, activity in pairs if activity))


def has_uncommitted_changes() -> bool:
    """Whether the reader's own open transaction changed customers (PostgreSQL; False on SQLite)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS(SELECT 1 FROM {CustomerChange._meta.db_table} "
                       "WHERE txid = pg_current_xact_id_if_assigned()::text::bigint)")
        return cursor.fetchone()[0]


def prune(*, keep_hours: int = 48) -> int:
    """Drop feed rows older than any live reader needs; a reader that last looked before the cut rebuilds."""
    cutoff = timezone.now() - timedelta(hours=keep_hours)
    _epoch()
    # Mark first: a reader that sees the cut also sees that it must rebuild.
    DataVersion.objects.filter(pk=1).update(pruned_before=cutoff)
    deleted, _ = CustomerChange.objects.filter(at__lt=cutoff).delete()
    return deleted
