"""The account manager's workspace (queue, work view, outcomes), and for managers a campaign's task
list with reassignment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from accounts.roles import is_account_manager
from accounts.services import mark_queue_seen
from campaigns.errors import CampaignError
from campaigns.models import Campaign, SavedTaskView, Task
from campaigns.workspace import exports, services
from campaigns.workspace.filters import TaskQueueFilter
from campaigns.workspace.forms import RESULT_PARTS, OutcomeForm, ReassignForm, SavedViewForm
from campaigns.workspace.selectors import customer_tasks, new_since, queue_counts, tasks_visible_to
from campaigns.workspace.tables import QueueTable, TaskTable
from core import export_jobs
from core.exports import csv_response
from core.params import object_id
from core.tables import configure_table
from customers.models import CustomerTag
from customers.selectors import CUSTOMER_PANELS

WORK_LIST_SIZE = 50


def _queue(request, params: QueryDict | None = None) -> TaskQueueFilter:
    # Holdout rows are kept out of contact, so they are never worked — not even by a manager opening
    # the queue ("next" jumped to one and saving it failed).
    tasks = (tasks_visible_to(request.user).filter(group=Task.Group.TREATMENT)
             .select_related("campaign", "customer", "assignee"))
    return TaskQueueFilter(params if params is not None else request.GET, queryset=tasks)


@login_required
def my_tasks(request):
    """The queue: due today / overdue / upcoming, by campaign, sortable, with saved views."""
    queue = _queue(request)
    table = QueueTable(queue.qs, query=request.GET.urlencode())
    configure_table(request, table, per_page=50)
    seen_before, now = request.user.queue_seen_at, timezone.now()
    new = (new_since(request.user, seen_before).values("campaign__name").annotate(count=Count("pk"))
           .order_by("-count") if is_account_manager(request.user) else [])
    mark_queue_seen(user=request.user, at=now)
    return render(request, "campaigns/my_tasks.html", {
        "new": list(new), "new_total": sum(row["count"] for row in new), "seen_before": seen_before,
        "filter": queue, "table": table, "counts": queue_counts(_counted(request, queue)),
        "query": request.GET.urlencode(), "saved_views": SavedTaskView.objects.filter(user=request.user),
        "save_form": SavedViewForm(),
    })


def _counted(request, queue: TaskQueueFilter):
    """The tasks the count tiles count: the user's, of the chosen campaign when one is chosen (the
    tiles are the buckets of what the filter shows)."""
    tasks = tasks_visible_to(request.user).filter(group=Task.Group.TREATMENT)
    campaign = queue.form.cleaned_data.get("campaign") if queue.form.is_valid() else None
    return tasks.filter(campaign=campaign) if campaign else tasks


@login_required
@require_POST
def save_view(request):
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")[:500]
    if form.is_valid():
        SavedTaskView.objects.update_or_create(user=request.user, name=form.cleaned_data["name"],
                                               defaults={"query": query})
        messages.success(request, _("View saved."))
    return redirect(reverse("campaigns:my_tasks") + "?" + query)


@login_required
@require_POST
def delete_view(request, pk):
    get_object_or_404(SavedTaskView, pk=pk, user=request.user).delete()
    return redirect("campaigns:my_tasks")


def _work_list(request, params: QueryDict) -> list:
    return list(_queue(request, params).qs[:WORK_LIST_SIZE])


@login_required
def work(request):
    """Split view: the queue on the left, the selected task and its outcome form on the right."""
    tasks = _work_list(request, request.GET)
    selected = None
    if object_id(request.GET.get("task")) is not None:
        selected = get_object_or_404(tasks_visible_to(request.user), pk=object_id(request.GET["task"]))
    elif tasks:
        selected = next((task for task in tasks if task.is_open), tasks[0])
    query = _query_without_task(request.GET)
    return render(request, "campaigns/work.html", {
        "tasks": tasks, "query": query, "panel": _panel_context(request, selected, query) if selected else None})


def _query_without_task(params: QueryDict) -> str:
    params = params.copy()
    params.pop("task", None)
    return params.urlencode()


def _panel_context(request, task, query: str, form: OutcomeForm | None = None, **extra) -> dict:
    customer = task.customer
    return {
        # Shown to its account manager, an open task is marked in progress by a POST the panel sends
        # once loaded (start_task below): a GET — a prefetch, a link preview — changes nothing.
        "starts": task.status == task.Status.OPEN and task.assignee_id == request.user.pk,
        "task": task, "customer": customer, "query": query, "form": form or OutcomeForm.for_task(task),
        "tags": CustomerTag.objects.filter(customer=customer).select_related("tag").order_by("tag__slug"),
        "history": customer_tasks(customer.pk, request.user, exclude=task.pk)[:20],
        "changes": task.outcome_changes.select_related("by")[:10],
        "result_keys": list(RESULT_PARTS), "customer_panels": CUSTOMER_PANELS, **extra,
        # Results that need a reason: choosing one moves the keyboard to the reason (app.js).
        "reason_results": [code for code, (_contact, response) in RESULT_PARTS.items()
                           if response in services.NEEDS_REASON],
    }


@login_required
def panel(request, pk):
    """htmx: the right-hand side for one task."""
    task = get_object_or_404(tasks_visible_to(request.user).select_related("campaign", "customer"), pk=pk)
    query = _query_without_task(request.GET)
    return render(request, "campaigns/_panel.html", _panel_context(request, task, query))


@login_required
@require_POST
def start_task(request, pk):
    """htmx, when the panel of an open task is shown to its account manager: the task is in progress."""
    task = get_object_or_404(tasks_visible_to(request.user), pk=pk, assignee=request.user)
    services.start_task(task=task)
    task.refresh_from_db(fields=["status"])
    return render(request, "campaigns/_task_status.html", {"task": task})


@login_required
@require_POST
def save_outcome(request, pk):
    """htmx (or a plain POST): save the outcome, then show the next open task of the queue."""
    task = get_object_or_404(tasks_visible_to(request.user).select_related("campaign", "customer"), pk=pk)
    query = request.POST.get("query", "")
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            saved = services.log_outcome(task=task, by=request.user, version=form.cleaned_data["version"],
                                         **form.outcome())
        except services.StaleEdit as stale:
            fresh = OutcomeForm.for_task(stale.current)
            return _panel_response(request, stale.current, query, fresh, conflict=str(stale), status=409)
        except ValidationError as error:
            _add_errors(form, error)
        except IntegrityError:
            form.add_error(None, _("The outcome could not be saved; please try again."))
        else:
            following = _next_open(request, query, after=saved)
            if not request.htmx:
                messages.success(request, _("Outcome saved."))
                target = reverse("campaigns:work") + "?" + query
                return redirect(target + (f"&task={following.pk}" if following else ""))
            if following is None:
                return render(request, "campaigns/_queue_done.html", {"saved": saved, "query": query})
            return _panel_response(request, following, query, None, saved=saved)
    return _panel_response(request, task, query, form, status=422)


def _panel_response(request, task, query, form, *, status: int = 200, **extra):
    # htmx swaps only 2xx answers: errors and conflicts go back as 200 to be shown in place.
    return render(request, "campaigns/_panel.html", _panel_context(request, task, query, form, **extra),
                  status=200 if request.htmx else status)


def _add_errors(form: OutcomeForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, problems in error.message_dict.items():
        target = "result" if field in ("contact_result", "response") else field
        form.add_error(target if target in form.fields else None, problems)


def _next_open(request, query: str, *, after):
    """The next open task in the queue's order after the one just saved (else the first open one)."""
    tasks = _work_list(request, QueryDict(query))
    ids = [task.pk for task in tasks]
    start = ids.index(after.pk) + 1 if after.pk in ids else 0
    for task in tasks[start:] + tasks[:start]:
        if task.pk != after.pk and task.is_open:
            return task
    return None


def _campaign_tasks(request, campaign):
    return exports.campaign_task_filter(campaign, request.GET)


@manager_required
def campaign_tasks(request, pk):
    """Every task of a campaign, filterable, with reassignment of one, several or all matching."""
    campaign = get_object_or_404(Campaign, pk=pk)
    task_filter = _campaign_tasks(request, campaign)
    form = ReassignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tasks = task_filter.qs if form.cleaned_data["all_matching"] else campaign.tasks.filter(
            pk__in=form.cleaned_data["selected"])
        try:
            moved = services.reassign_tasks(tasks=tasks, to_user=form.cleaned_data["to"], by=request.user)
        except CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(count)d tasks given to %(user)s.") % {
                "count": moved, "user": form.cleaned_data["to"].username})
        return redirect(reverse("campaigns:tasks", args=[pk]) + "?" + request.GET.urlencode())
    table = TaskTable(task_filter.qs)
    configure_table(request, table, per_page=50)
    return render(request, "campaigns/tasks.html", {
        "campaign": campaign, "filter": task_filter, "table": table, "form": form, "query": request.GET.urlencode()})


@manager_required
def campaign_tasks_export(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    task_filter = exports.campaign_task_filter(campaign, request.GET)
    count = task_filter.qs.count()
    if not export_jobs.fits_inline(count):
        job = exports.queue_task_export(campaign=campaign, query=request.GET, by=request.user, count=count)
        return redirect("core:export_status", job_id=job.pk)
    header, rows = exports.task_rows(task_filter)
    return csv_response(exports.file_name(campaign), header, rows)
