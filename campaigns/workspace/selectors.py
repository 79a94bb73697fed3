"""Reads of tasks: who may see which, the queue's buckets, a customer's tasks."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.roles import is_manager
from campaigns.models import OutcomeChange, Task
from customers.selectors import customers_visible_to


def tasks_visible_to(user) -> QuerySet[Task]:
    """The start of every task read: managers see all, an account manager only their own contact tasks."""
    tasks = Task.objects.all()
    if is_manager(user):
        return tasks
    return tasks.filter(assignee=user, group=Task.Group.TREATMENT)


def queue_counts(tasks: QuerySet[Task]) -> dict:
    """Overdue / due today / upcoming / done of a user's visible tasks.

    Two queries shaped for the partial indexes (open queue; assignee + status), so an account
    manager's counts are index-only reads rather than a scan of all their tasks.
    """
    today = timezone.localdate()
    counts = tasks.filter(status__in=Task.OPEN_STATUSES).aggregate(
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        today=Count("pk", filter=Q(due_date=today)),
        upcoming=Count("pk", filter=Q(due_date__gt=today) | Q(due_date__isnull=True)),
    )
    counts["done"] = tasks.filter(status=Task.Status.DONE).count()
    return counts


def due_now_count(user) -> int:
    """Open tasks due today or overdue, for the navigation badge (an index range count)."""
    return Task.objects.filter(assignee=user, group=Task.Group.TREATMENT, status__in=Task.OPEN_STATUSES,
                               due_date__lte=timezone.localdate()).count()


def customer_history(customer_id: int, user) -> QuerySet[Task]:
    """Every contact with a customer the user may see, whoever made it: an account manager reads the
    whole story of her own customers (earlier managers' outcomes included, read-only — writes go
    through tasks_visible_to), never anything of another manager's customers. Holdout rows are not
    contacts and stay out of an account manager's view."""
    tasks = Task.objects.filter(customer_id=customer_id)
    if is_manager(user):
        return tasks
    if not customers_visible_to(user).filter(pk=customer_id).exists():
        return tasks.none()
    return tasks.filter(group=Task.Group.TREATMENT)


def customer_tasks(customer_id: int, user, *, exclude: int | None = None) -> QuerySet[Task]:
    """The customer's earlier contacts, newest first (the work view's "previous campaigns")."""
    return (customer_history(customer_id, user).exclude(pk=exclude)
            .select_related("campaign", "assignee").order_by("-created_at", "-id"))


def customer_timeline_events(customer, user, limit: int) -> list[dict]:
    """The customer's contacts and saved outcomes (customer_history), for the customer timeline."""
    tasks = customer_history(customer.pk, user).select_related("campaign", "assignee")
    events = [{"at": task.created_at, "kind": "task", "campaign": task.campaign.name, "by": task.assignee,
               "status": task.get_status_display(), "group": task.get_group_display()}
              for task in tasks.order_by("-created_at")[:limit]]
    changes = (OutcomeChange.objects.filter(task__in=tasks.values("pk")).select_related("by", "task__campaign")
               .order_by("-at")[:limit])
    labels = {**dict(Task.ContactResult.choices), **dict(Task.Response.choices)}
    for change in changes:
        after = change.after
        result = after.get("response") or after.get("contact_result")
        events.append({"at": change.at, "kind": "outcome", "campaign": change.task.campaign.name, "by": change.by,
                       "result": labels.get(result, result), "amount": after.get("amount"),
                       "note": after.get("note", ""), "corrected": bool(change.before.get("contact_result"))})
    return events


def new_since(user, seen_at) -> QuerySet[Task]:
    """The user's open tasks that reached them after `seen_at`: created for them, or reassigned to
    them, since their last look at the queue (None: every open task is new)."""
    tasks = tasks_visible_to(user).filter(assignee=user, status__in=Task.OPEN_STATUSES)
    if seen_at is None:
        return tasks
    return tasks.filter(Q(created_at__gt=seen_at) | Q(reassignments__to_user=user, reassignments__at__gt=seen_at)
                        ).distinct()


def branch_tasks(user) -> QuerySet[Task]:
    """Open contact tasks of the user's branch's customers (a marketing manager: every branch)."""
    tasks = Task.objects.filter(group=Task.Group.TREATMENT, status__in=Task.OPEN_STATUSES)
    if is_manager(user):
        return tasks
    if user.branch_id is None:
        return tasks.none()
    return tasks.filter(customer__branch_id=user.branch_id)


def branch_pool(user) -> QuerySet[Task]:
    """The branch's tasks nobody holds yet: key-event tasks whose customer's own account manager and
    branch colleagues were away or full when the event came."""
    return branch_tasks(user).filter(assignee__isnull=True)


def pool_count(user) -> int:
    return branch_pool(user).count()
