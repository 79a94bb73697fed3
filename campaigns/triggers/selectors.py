"""Reads for key-event rules: the list with what each did, one rule's firings, a user's alerts."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.roles import is_manager
from accounts.selectors import account_managers
from campaigns.lifecycle.dispatch import open_task_counts
from campaigns.models import Task, TriggerFiring, TriggerRule
from segments.timebounds import day_start

from . import conditions

Outcome = TriggerFiring.Outcome


def rules_with_counts() -> QuerySet[TriggerRule]:
    """Every rule with how many tasks and alerts it made and how many firings wait."""
    return (TriggerRule.objects.select_related("campaign")
            .annotate(tasks_made=Count("firings", filter=Q(firings__outcome=Outcome.TASK)),
                      alerts_sent=Count("firings", filter=Q(firings__outcome=Outcome.ALERT)),
                      waiting=Count("firings", filter=Q(firings__outcome__in=[Outcome.WAITING, Outcome.DEFERRED])))
            .order_by("name"))


def outcome_counts(rule: TriggerRule) -> list[tuple[str, int]]:
    """(label, count) per outcome, in the order of TriggerFiring.Outcome, zeros left out — what the rule
    did and, for customers it did nothing for, why (do not contact, quiet hours, no account manager)."""
    counts = dict(rule.firings.values_list("outcome").annotate(n=Count("pk")).order_by())
    return [(outcome.label, counts[outcome.value]) for outcome in Outcome if counts.get(outcome.value)]


def recent_firings(rule: TriggerRule, limit: int = 50) -> QuerySet[TriggerFiring]:
    return rule.firings.select_related("customer", "event", "task", "recipient").order_by("-at", "-id")[:limit]


def alerts_for(user) -> QuerySet[TriggerFiring]:
    """Alerts of key-event rules: an account manager's own; a marketing manager sees every one."""
    alerts = TriggerFiring.objects.filter(outcome=Outcome.ALERT).select_related("rule", "customer", "event")
    return alerts if is_manager(user) else alerts.filter(recipient=user)


def unseen_alert_count(user) -> int:
    return alerts_for(user).filter(seen_at__isnull=True).count()


def quiet_hours_text() -> str:
    hours = conditions.quiet_hours()
    return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}" if hours else ""


def manager_load() -> list[dict]:
    """Per active account manager: open tasks, tasks made today, daily capacity, away until, and
    whether key-event routing passes them by now (away, or today's capacity reached)."""
    today = timezone.localdate()
    managers = list(account_managers().select_related("branch"))
    open_counts = open_task_counts([user.pk for user in managers])
    made_today = dict(Task.objects.filter(assignee__in=managers, group=Task.Group.TREATMENT,
                                          created_at__gte=day_start(today))
                      .values_list("assignee").annotate(n=Count("pk")).order_by())
    rows = []
    for user in managers:
        today_count = made_today.get(user.pk, 0)
        away = user.away_until is not None and user.away_until >= today
        full = user.daily_capacity is not None and today_count >= user.daily_capacity
        rows.append({"user": user, "open": open_counts.get(user.pk, 0), "today": today_count, "away": away,
                     "full": full, "share": today_count / user.daily_capacity if user.daily_capacity else None})
    return rows
