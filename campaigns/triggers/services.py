"""Writes for key-event rules: saving a rule (with its campaign), queueing new events, acting on them,
settling firings that wait (an absence to confirm, quiet hours to pass), and condition rules.

At most one task or alert per (rule, customer, window) holds because the firing row is unique on it
and is inserted — ON CONFLICT DO NOTHING — in the transaction that makes the task: a retried job, a
duplicate event or two workers at once find the row taken and do nothing.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pyroaring import BitMap

from activity.ingest import EVENT_TYPE
from activity.models import Event
from campaigns.lifecycle.pressure import PressureCounter
from campaigns.models import (
    Campaign,
    CampaignTransition,
    PendingTriggerEvent,
    Purpose,
    Task,
    TriggerFiring,
    TriggerRule,
    unique_slug,
)
from core.faults import pause_for_failure_tests
from core.services import enqueue_coalesced
from customers.models import Customer
from segments import engine
from segments.compiler import checked_expression, resolve
from segments.expression import ExpressionError, from_json, to_text
from segments.services import audience_for

from . import conditions, thresholds
from .routing import POOL, Router
from .selectors import alerts_for

logger = logging.getLogger(__name__)
Outcome = TriggerFiring.Outcome
FIRE_KEY = "fire-triggers"
BATCH = 1000
RULE_FIELDS = ("name", "event", "properties", "absent_event", "absent_within_hours", "action", "priority",
               "sla_hours", "script", "quiet_hours", "window_hours", "active", "service", "threshold")


# --- rules ---------------------------------------------------------------------------------------

@transaction.atomic
def save_rule(*, by, rule: TriggerRule | None = None, segment=None, **values) -> TriggerRule:
    """Create or change a rule; `segment` is an expression (JSON) or its text ("" or None: everyone).
    Every rule of a rule's settings is checked here; a ValidationError names each bad field."""
    rule = rule or TriggerRule()
    for name in RULE_FIELDS:
        if name in values:
            setattr(rule, name, values[name])
    rule.name = (rule.name or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        rule.properties = conditions.check_properties(rule.properties)
    except ValidationError as error:
        errors["properties"] = error.messages
    try:
        rule.threshold = thresholds.check_threshold(rule.threshold)
    except ValidationError as error:
        errors["threshold"] = error.messages
    if rule.event and rule.threshold:
        errors["threshold"] = [_("A threshold is watched without an event: leave the event type empty.")]
    if segment is not None or rule.pk is None:
        try:
            rule.expression, rule.text = _segment(segment)
        except ExpressionError as error:
            errors["segment"] = [str(error)]
    for field in ("event", "absent_event"):
        if getattr(rule, field) and not EVENT_TYPE.match(getattr(rule, field)):
            errors[field] = [_("An event type is lower-case letters, digits, _ . and - (at most 64), as events "
                               "arrive: e.g. login_failed.")]
    if bool(rule.absent_event) != bool(rule.absent_within_hours):
        errors["absent_within_hours"] = [_("Give both the event that should follow and within how many hours.")]
    if rule.absent_event and not rule.event:
        errors["absent_event"] = [_("“Unless followed by” needs the event it follows.")]
    if rule.absent_event and rule.absent_event == rule.event:
        errors["absent_event"] = [_("The event that should follow must differ from the one that fires the rule.")]
    if not rule.event and rule.expression is None and not rule.threshold and "threshold" not in errors:
        errors["event"] = [_("Give an event type, a threshold, or a segment condition that customers enter (e.g. "
                             "asset_change_30d <= -0.3).")]
    if not rule.event and rule.properties:
        errors["properties"] = [_("Properties filter events: give the event type too.")]
    if TriggerRule.objects.filter(name=rule.name).exclude(pk=rule.pk).exists():
        errors["name"] = [_("A trigger rule with this name exists already.")]
    elif Campaign.objects.filter(name=_campaign_name(rule)).exclude(pk=rule.campaign_id).exists():
        errors["name"] = [_("A campaign named “%(name)s” exists already: the rule's own campaign would take that "
                            "name.") % {"name": _campaign_name(rule)}]
    try:
        rule.full_clean(exclude=["campaign", "expression", "properties"] + list(errors))
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationError(errors)
    if rule.pk is None:
        rule.created_by = by
        rule.campaign = _campaign_for(rule, by)
    else:
        Campaign.objects.filter(pk=rule.campaign_id).update(
            name=_campaign_name(rule), priority=rule.priority, script=rule.script,
            launched_text=rule.text, purpose=_purpose(rule))
    if rule.pk is None or "active" in values or "threshold" in values or segment is not None:
        # A condition rule starts again from who is in it now (see check_condition_rules): a changed
        # condition is not customers crossing it.
        rule.baseline = None
    rule.save()
    return rule


@transaction.atomic
def delete_rule(*, rule: TriggerRule, by=None) -> Campaign:
    """The rule goes; its campaign is completed and keeps its tasks and their outcomes (the tasks
    forget the rule). Firings still waiting are dropped with it."""
    campaign = Campaign.objects.select_for_update().get(pk=rule.campaign_id)
    rule.delete()
    if campaign.status == Campaign.Status.RUNNING:
        CampaignTransition.objects.create(campaign=campaign, from_status=campaign.status,
                                          to_status=Campaign.Status.COMPLETED, by=by, note="trigger rule deleted")
        campaign.status, campaign.closed_at = Campaign.Status.COMPLETED, timezone.now()
        campaign.save(update_fields=["status", "closed_at", "updated_at"])
    return campaign


def mark_alerts_seen(*, user) -> int:
    return alerts_for(user).filter(seen_at__isnull=True).update(seen_at=timezone.now())


def _segment(segment) -> tuple[dict | None, str]:
    if segment in (None, ""):
        return None, ""
    tree = checked_expression(expression=segment) if isinstance(segment, dict) else checked_expression(text=segment)
    return tree, to_text(tree)


def _campaign_name(rule: TriggerRule) -> str:
    return _("Trigger: %(name)s") % {"name": rule.name}


def _campaign_for(rule: TriggerRule, by) -> Campaign:
    """The campaign a rule's tasks belong to: running from the start, measured like any other."""
    name = _campaign_name(rule)
    now = timezone.now()
    campaign = Campaign.objects.create(
        name=name, slug=unique_slug(name), objective=_("Tasks made by the key-event rule “%(name)s”.") % {
            "name": rule.name}, priority=rule.priority, script=rule.script, owner=by, status=Campaign.Status.RUNNING,
        launched_text=rule.text, audience_size=0, task_count=0, holdout_size=0, launched_at=now, suitability=False,
        purpose=_purpose(rule))
    CampaignTransition.objects.create(campaign=campaign, from_status=Campaign.Status.DRAFT,
                                      to_status=Campaign.Status.RUNNING, by=by, note="trigger rule")
    return campaign


def _purpose(rule: TriggerRule) -> str:
    return Purpose.SERVICE if rule.service else Purpose.MARKETING


def live_rules(*, with_event: bool | None = None) -> list[TriggerRule]:
    """Active rules whose campaign still runs (completing or cancelling it stops the rule)."""
    rules = TriggerRule.objects.filter(active=True, campaign__status=Campaign.Status.RUNNING).select_related("campaign")
    if with_event is True:
        rules = rules.exclude(event="")
    elif with_event is False:
        rules = rules.filter(event="")
    return list(rules)


# --- events in -----------------------------------------------------------------------------------

def queue_stored_events(*, rows: pd.DataFrame, created_at: datetime, **_signal) -> int:
    """activity.signals.events_stored: keep the new events some rule watches, recent enough to act on
    (an import of last year's events makes no tasks), for fire_pending — in the ingest's transaction."""
    watched = {rule.event for rule in live_rules(with_event=True)}
    if not watched or rows.empty:
        return 0
    horizon = pd.Timestamp(created_at - timedelta(hours=settings.TRIGGER_EVENT_MAX_AGE_HOURS))
    chosen = rows.loc[rows["type"].isin(watched) & (rows["occurred_at"] >= horizon), "external_id"].tolist()
    queued = 0
    for start in range(0, len(chosen), 5_000):
        part = chosen[start:start + 5_000]
        with connection.cursor() as cursor:  # the events this ingest stored (its created_at), in one statement
            cursor.execute(
                "INSERT INTO campaigns_pendingtriggerevent (event_id) SELECT id FROM activity_event "
                f"WHERE external_id IN ({', '.join(['%s'] * len(part))}) AND created_at = %s "
                "ON CONFLICT (event_id) DO NOTHING", [*part, connection.ops.adapt_datetimefield_value(created_at)])
            queued += cursor.rowcount
    if queued:
        # A short grace: if the worker holding the queued run dies before starting it, the next ingest
        # queues another within seconds (a spare run finds nothing pending; beat sweeps every minute).
        transaction.on_commit(lambda: enqueue_coalesced("campaigns.jobs.fire_triggers", key=FIRE_KEY, countdown=1,
                                                        grace=10))
    return queued


def fire_pending(*, batch: int = BATCH) -> int:
    """Act on queued events, a batch per transaction, until none is left; returns how many."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(PendingTriggerEvent.objects.select_for_update(skip_locked=True).order_by("event_id")
                       .values_list("event_id", flat=True)[:batch])
            if not ids:
                return done
            events = list(Event.objects.filter(pk__in=ids).order_by("occurred_at", "pk"))
            _act_on_events(events, live_rules(with_event=True), timezone.now())
            pause_for_failure_tests()
            PendingTriggerEvent.objects.filter(event_id__in=ids).delete()
        done += len(ids)


@dataclass
class _Firing:
    rule: TriggerRule
    customer: Customer
    window_key: int
    event: Event | None
    outcome: str
    due_at: datetime | None = None
    recipient_id: int | None = None
    pk: int | None = None  # the firing row's, once inserted


class _Audiences:
    """Each segment as a bitmap, evaluated once per batch on one refresh of the index (rules that
    share a segment share its bitmap)."""

    def __init__(self):
        self.bitmaps: dict[str, BitMap | None] = {}
        self.index = None

    def admits(self, rule: TriggerRule, customer_id: int) -> bool:
        if rule.expression is None:
            return True
        if rule.text not in self.bitmaps:
            self.index = self.index or engine.current_index()
            try:
                self.bitmaps[rule.text] = self.index.evaluate(resolve(from_json(rule.expression)))
            except ExpressionError as error:  # a tag it names was deleted since: the rule fires for nobody
                logger.warning("trigger rule %s: segment no longer resolves: %s", rule.pk, error)
                self.bitmaps[rule.text] = None
        bitmap = self.bitmaps[rule.text]
        return bitmap is not None and customer_id in bitmap


def _act_on_events(events: list[Event], rules: list[TriggerRule], now: datetime) -> None:
    by_type = defaultdict(list)
    for rule in rules:
        by_type[rule.event].append(rule)
    customers = Customer.objects.in_bulk({event.customer_id for event in events})
    audiences, planned, seen = _Audiences(), [], set()
    pressure, router = PressureCounter(customers, now), Router(now)
    for event in events:
        customer = customers.get(event.customer_id)
        for rule in by_type.get(event.type, ()):
            if customer is None or not conditions.properties_match(rule.properties, event.properties or {}):
                continue
            key = (rule.pk, customer.pk, conditions.window_of(event.occurred_at, rule.window_hours))
            if key in seen or not audiences.admits(rule, customer.pk):
                continue
            seen.add(key)
            if rule.absent_event:
                planned.append(_Firing(rule, customer, key[2], event, Outcome.WAITING,
                                       due_at=event.occurred_at + timedelta(hours=rule.absent_within_hours)))
            else:
                planned.append(_decided(_Firing(rule, customer, key[2], event, ""), now, pressure, router))
    _write(planned, now)


def _decided(firing: _Firing, now: datetime, pressure: PressureCounter, router: Router) -> _Firing:
    """What a firing does now: a task or an alert; deferred or dropped in quiet hours; or nothing for a
    customer who must not be contacted (do not contact, opted out of the channel, contacted as often as
    the limits allow) or whom nobody can take (routing.Router). The contact rules apply to tasks only:
    an alert tells the account manager, it contacts nobody."""
    rule, customer = firing.rule, firing.customer
    firing.due_at = None
    if rule.action == TriggerRule.Action.TASK:
        if customer.do_not_contact:
            firing.outcome = Outcome.DO_NOT_CONTACT
            return firing
        if rule.campaign.channel in (customer.opted_out_channels or []):
            firing.outcome = Outcome.OPTED_OUT
            return firing
        if conditions.is_quiet(now):
            if rule.quiet_hours == TriggerRule.QuietHours.DROP:
                firing.outcome = Outcome.QUIET_DROPPED
            else:
                firing.outcome, firing.due_at = Outcome.DEFERRED, conditions.next_contact_window(now)
            return firing
        if not pressure.admits(customer.pk, rule.campaign):
            firing.outcome = Outcome.CONTACT_PRESSURE
            return firing
    if rule.action == TriggerRule.Action.ALERT:
        firing.recipient_id = router.alert_for(customer)
        firing.outcome = Outcome.ALERT if firing.recipient_id is not None else Outcome.NO_ACCOUNT_MANAGER
        return firing
    chosen = router.task_for(customer)
    if chosen is None:
        firing.outcome = Outcome.NO_ACCOUNT_MANAGER
        return firing
    firing.outcome, firing.recipient_id = Outcome.TASK, None if chosen == POOL else chosen
    pressure.add(customer.pk, rule.campaign)
    return firing


def _write(planned: list[_Firing], now: datetime) -> None:
    """Insert the firings that are new for their window, then the tasks of those that make one."""
    if not planned:
        return
    _make_tasks([firing for firing in _insert_firings(planned, now) if firing.outcome == Outcome.TASK], now)


def _make_tasks(firings: list[_Firing], now: datetime) -> None:
    """The tasks of these firings (rows already written), linked to them and counted on their campaigns."""
    tasks = [_task(firing, now) for firing in firings]
    Task.objects.bulk_create(tasks)
    _link_tasks(firings, tasks)
    _count_tasks(tasks)


def _insert_firings(planned: list[_Firing], now: datetime) -> list[_Firing]:
    moment = connection.ops.adapt_datetimefield_value  # raw SQL: SQLite compares times as stored text, in UTC
    rows = [(firing.rule.pk, firing.customer.pk, firing.window_key, firing.event.pk if firing.event else None,
             firing.outcome, moment(firing.due_at), firing.recipient_id, moment(now)) for firing in planned]
    inserted = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start:start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute("INSERT INTO campaigns_triggerfiring (rule_id, customer_id, window_key, event_id, outcome, "
                           f"due_at, recipient_id, at) VALUES {values} "
                           "ON CONFLICT (rule_id, customer_id, window_key) DO NOTHING "
                           "RETURNING id, rule_id, customer_id, window_key",
                           [value for row in part for value in row])
            inserted.update((rule, customer, window, pk) for pk, rule, customer, window in cursor.fetchall())
    ids = {(rule, customer, window): pk for rule, customer, window, pk in inserted}
    fresh = []
    for firing in planned:
        pk = ids.get((firing.rule.pk, firing.customer.pk, firing.window_key))
        if pk is not None:
            firing.pk = pk
            fresh.append(firing)
    return fresh


def _task(firing: _Firing, now: datetime) -> Task:
    rule = firing.rule
    due_at = now + timedelta(hours=rule.sla_hours)  # the SLA runs from when the task is made
    return Task(campaign_id=rule.campaign_id, customer_id=firing.customer.pk, assignee_id=firing.recipient_id,
                group=Task.Group.TREATMENT, channel=rule.campaign.channel, priority=rule.priority,
                due_date=due_at.astimezone(conditions.zone()).date(), due_at=due_at,
                trigger_id=rule.pk, trigger_event_id=firing.event.pk if firing.event else None,
                created_at=now, updated_at=now)


def _update_from_values(table: str, assignments: str, key: str, columns: tuple[str, str], rows: list[tuple]) -> None:
    """One UPDATE … FROM a list of (key, value) rows (PostgreSQL and SQLite ≥ 3.33 alike): a batch's
    hundreds of rows in one statement, not a CASE per row (bulk_update took half a second for 1,000)."""
    for start in range(0, len(rows), 500):
        part = rows[start:start + 500]
        values = ", ".join(["(%s, %s)"] * len(part))
        with connection.cursor() as cursor:
            cursor.execute(f"WITH v({columns[0]}, {columns[1]}) AS (VALUES {values}) "
                           f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{key} = v.{columns[0]}",
                           [value for row in part for value in row])


def _link_tasks(firings: list[_Firing], tasks: list[Task]) -> None:
    if not firings:
        return
    if any(task.pk is None for task in tasks):  # a backend that returns no ids from a bulk insert
        raise RuntimeError("bulk_create returned no task ids")
    _update_from_values("campaigns_triggerfiring", "task_id = v.task", "id", ("firing", "task"),
                        [(firing.pk, task.pk) for firing, task in zip(firings, tasks, strict=True)])


def _count_tasks(tasks: list[Task]) -> None:
    """The rule's campaign counts its customers and tasks as they come (its "audience" so far)."""
    per_campaign = defaultdict(int)
    for task in tasks:
        per_campaign[task.campaign_id] += 1
    _update_from_values("campaigns_campaign", "task_count = task_count + v.n, audience_size = audience_size + v.n",
                        "id", ("campaign", "n"), sorted(per_campaign.items()))  # sorted: no lock-order deadlock


# --- firings that wait ---------------------------------------------------------------------------

def settle_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Firings whose time has come: an absence window that ended (the expected event came: nothing to
    do; it did not: act), or quiet hours that ended (act). Returns how many were settled."""
    now = now or timezone.now()
    settled = 0
    while True:
        with transaction.atomic():
            due = list(TriggerFiring.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(due_at__lte=now, outcome__in=[Outcome.WAITING, Outcome.DEFERRED])
                       .select_related("rule__campaign", "customer", "event").order_by("due_at", "pk")[:batch])
            if not due:
                return settled
            _settle(due, now)
        settled += len(due)


def _settle(due: list[TriggerFiring], now: datetime) -> None:
    followed = _followed(due)
    pressure, router = PressureCounter({row.customer_id for row in due}, now), Router(now)
    acting, changed = [], []
    for row in due:
        firing = _Firing(row.rule, row.customer, row.window_key, row.event, row.outcome)
        firing.pk = row.pk
        live = row.rule.active and row.rule.campaign.status == Campaign.Status.RUNNING
        if row.outcome == Outcome.WAITING and row.pk in followed:
            row.outcome, row.due_at = Outcome.FOLLOWED, None
        elif not live:
            row.outcome, row.due_at = Outcome.STOPPED, None
        else:
            _decided(firing, now, pressure, router)
            row.outcome, row.due_at, row.recipient_id = firing.outcome, firing.due_at, firing.recipient_id
            if firing.outcome == Outcome.TASK:
                acting.append(firing)
        row.at = now
        changed.append(row)
    TriggerFiring.objects.bulk_update(changed, ["outcome", "due_at", "recipient", "at"])
    _make_tasks(acting, now)


def _followed(due: list[TriggerFiring]) -> set[int]:
    """The waiting firings whose customer did the expected event between the first and the deadline
    (one read of the candidate events for the whole batch)."""
    waiting = [row for row in due if row.outcome == Outcome.WAITING and row.event is not None]
    if not waiting:
        return set()
    later = defaultdict(list)
    for customer, kind, at in Event.objects.filter(
            customer_id__in={row.customer_id for row in waiting}, type__in={row.rule.absent_event for row in waiting},
            occurred_at__gte=min(row.event.occurred_at for row in waiting),
            occurred_at__lte=max(row.due_at for row in waiting)).values_list("customer_id", "type", "occurred_at"):
        later[customer, kind].append(at)
    return {row.pk for row in waiting
            if any(row.event.occurred_at <= at <= row.due_at for at in later[row.customer_id, row.rule.absent_event])}


# --- condition rules -----------------------------------------------------------------------------

def check_condition_rules(*, now: datetime | None = None) -> int:
    """Rules on a condition (no event): customers who entered the segment since the last look fire.
    The first look after a rule is saved or switched on only notes who is in it (they did not just
    cross the threshold)."""
    now = now or timezone.now()
    fired = 0
    for rule in live_rules(with_event=False):
        with transaction.atomic():
            locked = TriggerRule.objects.select_for_update().get(pk=rule.pk)
            try:
                members = _condition_members(rule, now)
            except ExpressionError as error:
                logger.warning("trigger rule %s: segment no longer resolves: %s", rule.pk, error)
                continue
            if locked.baseline is not None:
                entered = members - BitMap.deserialize(bytes(locked.baseline))
                customers = Customer.objects.in_bulk(list(entered))
                window = conditions.window_of(now, rule.window_hours)
                pressure, router = PressureCounter(customers, now), Router(now)
                planned = [_decided(_Firing(rule, customers[pk], window, None, ""), now, pressure, router)
                           for pk in entered if pk in customers]
                _write(planned, now)
                fired += len(planned)
            locked.baseline = members.serialize()
            locked.save(update_fields=["baseline"])
    return fired


def _condition_members(rule: TriggerRule, now: datetime) -> BitMap:
    """Who meets a condition rule now: its segment's members, within its threshold's when it has one."""
    segment = audience_for(expression=rule.expression)[1].bitmap if rule.expression is not None else None
    if not rule.threshold:
        return segment
    within = thresholds.members(rule.threshold, now.astimezone(conditions.zone()).date())
    return within if segment is None else within & segment
