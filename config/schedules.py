"""Helpers the beat schedule refers to. Beat pickles its schedule into a file, so everything in
it must be importable by name: no lambdas."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def now_where_the_report_is_read() -> datetime:
    """The current time in WEEKLY_REPORT_TIME_ZONE (the weekly review's crontab runs on it)."""
    return datetime.now(ZoneInfo(settings.WEEKLY_REPORT_TIME_ZONE))
