"""Contact pressure: the limits (ContactLimit) every launch and every key-event rule obeys, in one
place — as SQL for a launch's classification, and as a counter for the rules' batches.

A contact is a treatment task (someone is to call the customer), counted from its creation over a
rolling period. A limit on one channel counts and limits that channel's contacts; a limit with no
channel counts all. With `exempt_service`, service campaigns are neither limited nor counted.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count

from campaigns.models import Campaign, ContactLimit, Purpose, Task


def _applies(limit: ContactLimit, *, channel: str, purpose: str) -> bool:
    return limit.channel in ("", channel) and not (limit.exempt_service and purpose == Purpose.SERVICE)


def limits_for(*, channel: str, purpose: str) -> list[ContactLimit]:
    """The limits that apply to a campaign on this channel with this purpose."""
    return [limit for limit in ContactLimit.objects.all() if _applies(limit, channel=channel, purpose=purpose)]


def _counted(limit: ContactLimit, now: datetime):
    tasks = Task.objects.filter(group=Task.Group.TREATMENT, created_at__gte=now - timedelta(days=limit.period_days))
    if limit.channel:
        tasks = tasks.filter(channel=limit.channel)
    if limit.exempt_service:
        tasks = tasks.exclude(campaign__purpose=Purpose.SERVICE)
    return tasks


def pressure_sql(campaign: Campaign, now: datetime) -> tuple[str, list]:
    """A condition on `c` (the customer row) true when one more contact now would pass a limit
    ("1 = 0" when none applies), and its parameters. The same counting as `_counted`."""
    quote = connection.ops.quote_name
    task, campaigns = quote(Task._meta.db_table), quote(Campaign._meta.db_table)
    parts, params = [], []
    for limit in limits_for(channel=campaign.channel, purpose=campaign.purpose):
        conditions = ["t.customer_id = c.id", f"t.{quote('group')} = 'treatment'", "t.created_at >= %s"]
        params.append(connection.ops.adapt_datetimefield_value(now - timedelta(days=limit.period_days)))
        if limit.channel:
            conditions.append("t.channel = %s")
            params.append(limit.channel)
        if limit.exempt_service:
            conditions.append(f"NOT EXISTS (SELECT 1 FROM {campaigns} k WHERE k.id = t.campaign_id "
                              f"AND k.purpose = 'service')")
        parts.append(f"(SELECT COUNT(*) FROM {task} t WHERE {' AND '.join(conditions)}) >= %s")
        params.append(limit.max_contacts)
    return (" OR ".join(parts) or "1 = 0"), params


class PressureCounter:
    """Contacts per customer under each limit, read once for a batch of customers and kept up to date
    as the batch plans tasks: `admits(customer, campaign)` before, `add(customer, campaign)` after."""

    def __init__(self, customer_ids, now: datetime):
        self.now = now
        self.limits = list(ContactLimit.objects.all())
        self.counts: dict[int, dict[int, int]] = {}
        ids = list(customer_ids)
        for limit in self.limits:
            rows = _counted(limit, now).filter(customer_id__in=ids).values("customer_id").annotate(
                n=Count("pk")).order_by()
            self.counts[limit.pk] = defaultdict(int, {row["customer_id"]: row["n"] for row in rows})

    def _applying(self, campaign: Campaign) -> list[ContactLimit]:
        return [limit for limit in self.limits if _applies(limit, channel=campaign.channel, purpose=campaign.purpose)]

    def admits(self, customer_id: int, campaign: Campaign) -> bool:
        return all(self.counts[limit.pk][customer_id] < limit.max_contacts for limit in self._applying(campaign))

    def add(self, customer_id: int, campaign: Campaign) -> None:
        for limit in self._applying(campaign):
            self.counts[limit.pk][customer_id] += 1
