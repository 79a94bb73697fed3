"""Turning age and calendar-day comparisons into bounds on stored columns.

age is derived from birth_date (whole years, as Customer.age computes it); created_at is compared by
calendar day in the configured time zone.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def years_before(today: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def birth_date_bounds(op: str, age: int, today: date) -> tuple[date | None, bool, date | None, bool]:
    """(low, low_inclusive, high, high_inclusive) on birth_date for `age <op> value`."""
    if op == "gte":
        return None, False, years_before(today, age), True
    if op == "gt":
        return birth_date_bounds("gte", age + 1, today)
    if op == "lte":
        return years_before(today, age + 1), False, None, False
    if op == "lt":
        return birth_date_bounds("lte", age - 1, today)
    if op == "eq":
        return years_before(today, age + 1), False, years_before(today, age), True
    raise ValueError(op)


def day_start(day: date) -> datetime:
    """Midnight at the start of a calendar day in the configured time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def day_bounds(op: str, day: date) -> tuple[datetime | None, datetime | None]:
    """[start, end) datetimes for `created_at <op> day` (by calendar day)."""
    start, next_day = day_start(day), day_start(day + timedelta(days=1))
    return {
        "eq": (start, next_day), "lt": (None, start), "lte": (None, next_day),
        "gt": (next_day, None), "gte": (start, None),
    }[op]
