"""Writes of the workspace: an outcome (validated, version-checked so no update is lost, kept in
history) and reassignment. Used by the work view, the API (PATCH /api/v1/tasks/{id}/) and imports alike.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, IntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.selectors import account_managers
from campaigns.analytics.stored import request_refresh
from campaigns.errors import CampaignError
from campaigns.models import FailureReason, OutcomeChange, Task, TaskReassignment
from campaigns.workspace.selectors import branch_pool
from core.bulk import insert_from_select

OUTCOME_FIELDS = ["contact_result", "response", "failure_reason", "failure_note", "amount", "product", "note",
                  "next_follow_up"]
NEEDS_REASON = {Task.Response.DECLINED, Task.Response.NOT_INTERESTED}

# The starting list (admins extend it). Labels are stored in English and translated when shown.
DEFAULT_FAILURE_REASONS = [
    ("price", gettext_noop("Price / fees"), False),
    ("risk", gettext_noop("Risk too high"), False),
    ("timing", gettext_noop("Bad timing"), False),
    ("competitor", gettext_noop("Has a competitor's product"), False),
    ("no_need", gettext_noop("No need"), False),
    ("other", gettext_noop("Other"), True),
]


def ensure_failure_reasons() -> None:
    """Create the default reasons that are missing (never touches ones an admin changed)."""
    for position, (code, label, needs_text) in enumerate(DEFAULT_FAILURE_REASONS):
        FailureReason.objects.get_or_create(code=code, defaults={"label": label, "needs_text": needs_text,
                                                                 "position": position})


class StaleEdit(Exception):
    """Someone else changed the task since this edit began; `current` is the task as it is now."""

    def __init__(self, current: Task):
        super().__init__(_("This task was changed meanwhile (now version %(version)d); reload it and try again.")
                         % {"version": current.version})
        self.current = current


def clean_outcome(values: dict, *, today: date | None = None) -> dict:
    """The outcome with blanks normalised, or ValidationError naming every field at fault.

    Rules: a reached customer has a response, an unreached one has none; declined and not
    interested need a reason (and “other” a description); a conversion has no reason; only a
    conversion brings an amount, never negative; call back later needs a date, never in the past.
    """
    today = today or timezone.localdate()
    data = {name: values.get(name) for name in OUTCOME_FIELDS}
    for name in ("contact_result", "response", "failure_reason", "failure_note", "product", "note"):
        data[name] = (data[name] or "").strip()
    errors: dict[str, str] = {}
    contact, response, reason = data["contact_result"], data["response"], data["failure_reason"]
    if contact not in Task.ContactResult.values:
        errors["contact_result"] = _("Choose whether the customer was reached.") if not contact else \
            _("Unknown contact result “%(value)s”.") % {"value": contact}
    if contact == Task.ContactResult.REACHED and response not in Task.Response.values:
        errors["response"] = _("Choose the customer's response.") if not response else \
            _("Unknown response “%(value)s”.") % {"value": response}
    if contact and contact != Task.ContactResult.REACHED and response:
        errors["response"] = _("A customer who was not reached has no response.")
    if response in NEEDS_REASON:
        known = {row.code: row for row in FailureReason.objects.filter(active=True)}
        if not reason:
            errors["failure_reason"] = _("Say why the customer declined.")
        elif reason not in known:
            errors["failure_reason"] = _("Unknown failure reason “%(value)s”.") % {"value": reason}
        elif known[reason].needs_text and not data["failure_note"]:
            errors["failure_note"] = _("Describe the reason.")
    elif reason:
        errors["failure_reason"] = _("Only a declined or uninterested customer has a failure reason.")
    data["amount"] = _amount(data["amount"], response, errors)
    follow_up = data["next_follow_up"]
    if isinstance(follow_up, str):
        follow_up = _date(follow_up, errors)
    if follow_up and follow_up < today:
        errors["next_follow_up"] = _("The follow-up date is in the past.")
    if response == Task.Response.CALL_BACK and not follow_up and "next_follow_up" not in errors:
        errors["next_follow_up"] = _("Give the date to call back.")
    data["next_follow_up"] = follow_up or None
    if errors:
        raise ValidationError(errors)
    return data


def _amount(value, response: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        errors["amount"] = _("Enter the amount as a number.")
        return None
    if not amount.is_finite() or amount < 0:
        errors["amount"] = _("The amount cannot be negative.")
    elif amount >= Decimal("1e14"):
        errors["amount"] = _("The amount is too large.")
    elif amount and response != Task.Response.CONVERTED:
        errors["amount"] = _("Only a conversion brings an amount.")
    return amount.quantize(Decimal("0.01")) if "amount" not in errors else None


def _date(value: str, errors: dict) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors["next_follow_up"] = _("Enter the date as YYYY-MM-DD.")
        return None


def _snapshot(task: Task) -> dict:
    def plain(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    return {"status": task.status, **{name: plain(getattr(task, name)) for name in OUTCOME_FIELDS}}


@transaction.atomic
def log_outcome(*, task: Task, by, version: int, **values) -> Task:
    """Save the outcome if `version` is still the task's; StaleEdit if someone got there first.

    Marks the task done (the first completion time is kept on corrections), records the change
    with before/after, and opens — or moves, or cancels — the follow-up task.
    """
    data = clean_outcome(values)
    # The related rows come along for the answer (campaign product, serializer names) but only the
    # task row is locked.
    current = (Task.objects.select_related("campaign", "customer", "assignee")
               .select_for_update(of=("self",)).get(pk=task.pk))
    if current.version != version:
        raise StaleEdit(current)
    if current.group != Task.Group.TREATMENT or current.status in (Task.Status.CANCELLED, Task.Status.SKIPPED):
        raise ValidationError(_("This task is %(status)s; its outcome cannot be logged.") % {
            "status": current.get_status_display().lower()})
    before = _snapshot(current)
    now = timezone.now()
    for name, value in data.items():
        setattr(current, name, value)
    if data["response"] == Task.Response.CONVERTED and not data["product"]:
        current.product = current.campaign.product
    current.status = Task.Status.DONE
    current.completed_at = current.completed_at or now
    current.version += 1
    current.updated_at = now
    current.save()
    OutcomeChange.objects.create(task=current, by=by, version=current.version, before=before, after=_snapshot(current))
    _follow_up(current, now)
    request_refresh(current.campaign_id)  # the stored metrics follow within seconds
    return current


def _follow_up(task: Task, now) -> None:
    open_follow_up = Task.objects.filter(follow_up_of=task, status__in=Task.OPEN_STATUSES).first()
    if task.next_follow_up is None:
        if open_follow_up:
            Task.objects.filter(pk=open_follow_up.pk).update(status=Task.Status.CANCELLED, updated_at=now)
        return
    if open_follow_up:
        Task.objects.filter(pk=open_follow_up.pk).update(due_date=task.next_follow_up, updated_at=now)
        return
    Task.objects.create(campaign_id=task.campaign_id, customer_id=task.customer_id, assignee_id=task.assignee_id,
                        group=Task.Group.TREATMENT, channel=task.channel, priority=task.priority,
                        due_date=task.next_follow_up, follow_up_of=task, created_at=now, updated_at=now)


@transaction.atomic
def start_task(*, task: Task) -> None:
    """Opening a task in the work view marks it in progress (no version bump: not an edit)."""
    Task.objects.filter(pk=task.pk, status=Task.Status.OPEN).update(status=Task.Status.IN_PROGRESS)


@transaction.atomic
def reassign_tasks(*, tasks, to_user, by) -> int:
    """Move open contact tasks to another account manager, keeping who had them before.

    `tasks` is a queryset (one task or every task matching a filter); done, cancelled and
    control-group tasks stay where they are.
    """
    if not account_managers().filter(pk=to_user.pk).exists():
        raise CampaignError(_("Tasks can only go to an active account manager."))
    movable = (tasks.filter(group=Task.Group.TREATMENT, status__in=Task.OPEN_STATUSES)
               .exclude(assignee=to_user).order_by())
    # Lock them first. An outcome being logged holds its task's row lock: this waits for it, then
    # leaves the task out (PostgreSQL re-checks a locked row's status). The statements below read
    # afresh and find the same tasks, now held by us. (Reading the selection unlocked moved tasks
    # whose outcome committed meanwhile, outcome and all.) SQLite has one writer at a time anyway.
    list(movable.select_for_update(of=("self",)).values_list("pk", flat=True))
    now = timezone.now()
    history = movable.values_list(
        "pk", "assignee_id", Value(to_user.pk, output_field=IntegerField()),
        Value(by.pk if by else None, output_field=IntegerField()), Value(now, output_field=DateTimeField()))
    insert_from_select(TaskReassignment, ["task_id", "from_user_id", "to_user_id", "by_id", "at"], history)
    return Task.objects.filter(pk__in=movable.values("pk")).update(
        assignee=to_user, version=F("version") + 1, updated_at=now)


@transaction.atomic
def take_from_pool(*, task_id: int, user) -> None:
    """An account manager takes a task from their branch's pool; one of two at once gets it."""
    if not reassign_tasks(tasks=branch_pool(user).filter(pk=task_id), to_user=user, by=user):
        raise CampaignError(_("Someone else took this task already."), conflict=True)
