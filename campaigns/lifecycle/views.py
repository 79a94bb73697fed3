"""Campaign pages for managers: list, form with live audience, detail, launch, lifecycle actions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from accounts.roles import is_account_manager
from campaigns.analytics.metrics import estimated_value, holdout_share
from campaigns.analytics.selectors import campaign_stats, progress_by_campaign
from campaigns.lifecycle import launch, services
from campaigns.lifecycle.filters import CampaignFilter
from campaigns.lifecycle.forms import CampaignForm
from campaigns.lifecycle.home import manager_home
from campaigns.lifecycle.selectors import campaigns_list
from campaigns.lifecycle.tables import CampaignTable
from campaigns.models import Campaign
from core.forms import add_service_errors
from core.params import object_id
from core.tables import configure_table
from segments.expression import ExpressionError


@login_required
def home(request):
    """Each role's start of the day: an account manager's queue; a marketing manager's campaigns in
    flight and what needs attention (instead of a 45k-row customer grid for both)."""
    if is_account_manager(request.user):
        return redirect("campaigns:my_tasks")
    return render(request, "campaigns/home.html", manager_home(request.user))


@manager_required
def campaign_list(request):
    campaign_filter = CampaignFilter(request.GET, queryset=campaigns_list())
    table = CampaignTable(campaign_filter.qs)
    configure_table(request, table, per_page=30)
    table.figures = progress_by_campaign([row.record.pk for row in table.page.object_list])
    return render(request, "campaigns/list.html", {"filter": campaign_filter, "table": table})


@manager_required
def campaign_form(request, pk=None):
    """Create or edit; launch settings are read-only once the campaign has launched."""
    campaign = get_object_or_404(Campaign, pk=pk) if pk else Campaign(owner=request.user)
    form = CampaignForm(request.POST or None, instance=campaign,
                        initial=None if pk else CampaignForm.initial_from_query(request.GET))
    if request.method == "POST" and form.is_valid():
        instance, managers, products = form.apply()
        try:
            saved = services.save_campaign(campaign=instance, by=request.user, managers=managers, products=products)
        except ExpressionError as error:
            form.add_error("text", str(error))
        except ValidationError as error:
            add_service_errors(form, error)
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
                     frequency_cap_days=data.get("frequency_cap_days") or 0,
                     suitability=bool(data.get("suitability")))
    if object_id(request.POST.get("campaign")) is not None:
        draft.pk = object_id(request.POST["campaign"])  # its own earlier tasks do not count against the cap
    managers = [user.pk for user in data.get("account_managers") or []]
    try:
        plan = services.launch_preview(campaign=draft, managers=managers, products=list(data.get("products") or []))
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
        "estimate": estimated_value(stats, campaign.value_per_conversion),
        "holdout_share": holdout_share(stats["holdout"], campaign.task_count or 0),
        "days": stats["by_day"], "transitions": campaign.transitions.select_related("by"),
        "chart_labels": {"outcomes": _("outcomes logged"), "converted_total": _("converted, total")},
        "job": campaign.launch_job, "approval_required": settings.CAMPAIGN_APPROVAL_REQUIRED,
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
    "approve": (services.approve_campaign, _("Campaign approved: it can be launched.")),
}


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
