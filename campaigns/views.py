"""Campaign pages for marketing managers: list, form with live audience, detail, launch, tasks."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from core.exports import csv_response
from customers.views import manager_required
from segments.expression import ExpressionError

from . import launch, services
from .filters import CampaignFilter, TaskFilter
from .forms import CampaignForm, ReassignForm
from .models import Campaign
from .selectors import campaign_stats, campaigns_list, progress_by_campaign
from .tables import CampaignTable, TaskTable


@manager_required
def campaign_list(request):
    campaign_filter = CampaignFilter(request.GET, queryset=campaigns_list())
    table = CampaignTable(campaign_filter.qs)
    RequestConfig(request, paginate={"per_page": 30}).configure(table)
    table.figures = progress_by_campaign([row.record.pk for row in table.page.object_list])
    return render(request, "campaigns/list.html", {"filter": campaign_filter, "table": table})


@manager_required
def campaign_form(request, pk=None):
    """Create or edit; launch settings are read-only once the campaign has launched."""
    campaign = get_object_or_404(Campaign, pk=pk) if pk else Campaign(owner=request.user)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        instance, managers = form.apply()
        try:
            saved = services.save_campaign(campaign=instance, by=request.user, managers=managers)
        except ExpressionError as error:
            form.add_error("text", str(error))
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, _("Campaign %(name)s saved.") % {"name": saved.name})
            return redirect("campaigns:detail", pk=saved.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign if pk else None})


@manager_required
@require_POST
def campaign_audience(request):
    """htmx: what a launch of the form's settings would do now (audience, exclusions, tasks)."""
    form = CampaignForm(request.POST)
    form.is_valid()  # the estimate uses whatever is valid so far
    data = form.cleaned_data
    if "text" in form.errors and (request.POST.get("text") or "").strip():
        return render(request, "campaigns/_audience.html", {"error": form.errors["text"][0]})
    if not data.get("segment") and not (data.get("text") or "").strip():
        return render(request, "campaigns/_audience.html", {"empty": True})
    draft = Campaign(channel=data.get("channel") or "phone", segment=data.get("segment"),
                     text=data.get("text") or "", strategy=data.get("strategy") or "owner",
                     holdout_pct=data.get("holdout_pct") or 0, holdout_seed=data.get("holdout_seed") or 1,
                     frequency_cap_days=data.get("frequency_cap_days") or 0)
    if request.POST.get("campaign", "").isdigit():
        draft.pk = int(request.POST["campaign"])  # its own earlier tasks do not count against the cap
    managers = [user.pk for user in data.get("account_managers") or []]
    try:
        plan = services.launch_preview(campaign=draft, managers=managers)
    except services.CampaignError as error:
        return render(request, "campaigns/_audience.html", {"error": str(error)})
    return render(request, "campaigns/_audience.html", {"plan": plan, "reasons": _reasons(plan.excluded)})


def _reasons(excluded: dict) -> list[tuple[str, int]]:
    return [(str(launch.EXCLUSION_REASONS.get(reason, reason)), count) for reason, count in excluded.items()]


@manager_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(campaigns_list(), pk=pk)
    stats = campaign_stats(campaign)
    return render(request, "campaigns/detail.html", {
        "campaign": campaign, "stats": stats, "excluded": _reasons(stats["excluded"]),
        "days": stats["by_day"], "transitions": campaign.transitions.select_related("by"),
        "job": campaign.launch_job,
    })


@manager_required
def campaign_launch(request, pk):
    """Confirmation with the final audience after exclusions; POST queues the launch job."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method == "POST":
        try:
            services.queue_launch(campaign=campaign, by=request.user)
        except services.CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Launch started: tasks are being created."))
        return redirect("campaigns:detail", pk=campaign.pk)
    plan, problem = None, None
    try:
        plan = services.preflight(campaign)
    except services.CampaignError as error:
        problem = str(error)
    return render(request, "campaigns/launch.html", {
        "campaign": campaign, "plan": plan, "problem": problem, "reasons": _reasons(plan.excluded) if plan else []})


@manager_required
def campaign_job(request, pk):
    """htmx: the launch progress; reloads the page once the launch has finished."""
    campaign = get_object_or_404(Campaign, pk=pk)
    response = render(request, "campaigns/_launch_progress.html", {"campaign": campaign, "job": campaign.launch_job})
    if campaign.launch_job and campaign.launch_job.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


ACTIONS = {
    "schedule": (services.schedule_campaign, _("Campaign scheduled: it launches by itself at its start time.")),
    "unschedule": (services.unschedule_campaign, _("Campaign back to draft.")),
    "complete": (services.complete_campaign, _("Campaign completed; open tasks were cancelled.")),
    "cancel": (services.cancel_campaign, _("Campaign cancelled.")),
}


@manager_required
@require_POST
def campaign_tag_results(request, pk):
    """On demand: write the result tags (<slug>-converted, …) from the outcomes so far."""
    from .results import tag_results

    counts = tag_results(campaign=get_object_or_404(Campaign, pk=pk))
    messages.success(request, _("Result tags written: %(tags)s.") % {
        "tags": ", ".join(f"{slug} ({count})" for slug, count in counts.items())})
    return redirect("campaigns:detail", pk=pk)


@manager_required
@require_POST
def campaign_action(request, pk, action):
    campaign = get_object_or_404(Campaign, pk=pk)
    if action not in ACTIONS:
        return redirect("campaigns:detail", pk=pk)
    service, done = ACTIONS[action]
    try:
        service(campaign=campaign, by=request.user)
    except services.CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("campaigns:detail", pk=pk)


def _campaign_tasks(request, campaign):
    return TaskFilter(request.GET, queryset=campaign.tasks.select_related("customer", "assignee"))


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
        except services.CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(count)d tasks given to %(user)s.") % {
                "count": moved, "user": form.cleaned_data["to"].username})
        return redirect(reverse("campaigns:tasks", args=[pk]) + "?" + request.GET.urlencode())
    table = TaskTable(task_filter.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "campaigns/tasks.html", {
        "campaign": campaign, "filter": task_filter, "table": table, "form": form, "query": request.GET.urlencode()})


@manager_required
def campaign_tasks_export(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    rows = _campaign_tasks(request, campaign).qs.order_by("id").values_list(
        "id", "customer__external_id", "customer__name", "assignee__username", "group", "channel", "status",
        "due_date", "contact_result", "response", "failure_reason", "amount", "completed_at")
    header = [_("Task"), _("External id"), _("Customer"), _("Account manager"), _("Group"), _("Channel"), _("Status"),
              _("Due"), _("Contact result"), _("Response"), _("Failure reason"), _("Amount"), _("Completed")]
    stamp = timezone.localdate().isoformat()
    return csv_response(f"{campaign.slug}-tasks-{stamp}.csv", header, rows.iterator(chunk_size=5000))

