"""The pure parts of a key-event rule: property conditions, windows, quiet hours. No database."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

OPERATORS = {
    "eq": lambda actual, wanted: actual == wanted,
    "ne": lambda actual, wanted: actual != wanted,
    "gt": lambda actual, wanted: _number(actual) is not None and _number(actual) > wanted,
    "gte": lambda actual, wanted: _number(actual) is not None and _number(actual) >= wanted,
    "lt": lambda actual, wanted: _number(actual) is not None and _number(actual) < wanted,
    "lte": lambda actual, wanted: _number(actual) is not None and _number(actual) <= wanted,
    "in": lambda actual, wanted: actual in wanted,
}
NUMERIC = {"gt", "gte", "lt", "lte"}
EPOCH = datetime(1970, 1, 1)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check_properties(properties) -> dict:
    """`{"page": "fund-x", "loss_pct": {"gte": 20}, "step": {"in": ["kyc", "id"]}}`: a value is
    equality, an object one or more of eq ne gt gte lt lte in. A ValidationError says what is wrong."""
    if properties in (None, ""):
        return {}
    if not isinstance(properties, dict):
        raise ValidationError(_("Properties are a JSON object, e.g. {\"page\": \"fund-x\"}."))
    for key, condition in properties.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ValidationError(_("A property name is 1 to 64 characters."))
        tests = condition if isinstance(condition, dict) else {"eq": condition}
        if not tests:
            raise ValidationError(_("“%(key)s”: give a value or a comparison.") % {"key": key})
        for operator, wanted in tests.items():
            if operator not in OPERATORS:
                raise ValidationError(_("“%(key)s”: unknown comparison “%(op)s”; use one of %(known)s.")
                                      % {"key": key, "op": operator, "known": ", ".join(OPERATORS)})
            if operator in NUMERIC and _number(wanted) is None:
                raise ValidationError(_("“%(key)s”: %(op)s needs a number.") % {"key": key, "op": operator})
            if operator == "in" and not isinstance(wanted, list):
                raise ValidationError(_("“%(key)s”: in needs a list of values.") % {"key": key})
            if isinstance(wanted, dict) or (operator != "in" and isinstance(wanted, list)):
                raise ValidationError(_("“%(key)s”: compare with a plain value.") % {"key": key})
    return properties


def properties_match(conditions: dict, properties: dict) -> bool:
    """Every condition holds on the event's properties (a missing property fails every test but ne)."""
    for key, condition in conditions.items():
        tests = condition if isinstance(condition, dict) else {"eq": condition}
        missing = key not in properties
        for operator, wanted in tests.items():
            if missing:
                if operator != "ne":
                    return False
                continue
            wanted = float(wanted) if operator in NUMERIC else wanted
            if not OPERATORS[operator](properties[key], wanted):
                return False
    return True


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def window_of(moment: datetime, window_hours: int) -> int:
    """Which window a moment falls in: windows of `window_hours` counted in local wall-clock hours from
    1970, so that 24-hour windows are the local calendar days."""
    local = moment.astimezone(zone()).replace(tzinfo=None)
    return int((local - EPOCH).total_seconds() // 3600) // window_hours


def quiet_hours() -> tuple[time, time] | None:
    """(start, end) of the nightly quiet hours from CONTACT_QUIET_HOURS ("21:00-08:00"; empty: none)."""
    text = (settings.CONTACT_QUIET_HOURS or "").strip()
    if not text:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def is_quiet(moment: datetime) -> bool:
    hours = quiet_hours()
    if hours is None:
        return False
    start, end = hours
    now = moment.astimezone(zone()).time()
    return (start <= now < end) if start < end else (now >= start or now < end)


def next_contact_window(moment: datetime) -> datetime:
    """When quiet hours that hold at `moment` end (`moment` itself outside them)."""
    hours = quiet_hours()
    if hours is None or not is_quiet(moment):
        return moment
    local = moment.astimezone(zone())
    opening = datetime.combine(local.date(), hours[1], tzinfo=zone())
    if opening <= local:
        opening += timedelta(days=1)
    return opening
