"""Key-event pages: the rules (marketing managers) and an account manager's alerts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import manager_required
from accounts.services import set_availability
from campaigns.errors import CampaignError
from campaigns.lifecycle import services as lifecycle_services
from campaigns.models import ContactLimit, TriggerRule
from campaigns.workspace import services as workspace_services
from campaigns.workspace.selectors import branch_pool, branch_tasks
from core.forms import add_service_errors

from . import selectors, services, thresholds
from .forms import AvailabilityForm, ContactLimitForm, TriggerRuleForm


@manager_required
def rule_list(request):
    rules = list(selectors.rules_with_counts())
    for rule in rules:
        rule.threshold_text = thresholds.describe(rule.threshold) if rule.threshold else ""
    return render(request, "campaigns/triggers/rule_list.html", {"rules": rules})


@manager_required
def rule_edit(request, pk=None):
    rule = get_object_or_404(TriggerRule.objects.select_related("campaign"), pk=pk) if pk else None
    form = TriggerRuleForm(request.POST or None, initial=TriggerRuleForm.initial_of(rule) if rule else None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        segment = values.pop("segment")
        try:
            saved = services.save_rule(by=request.user, rule=rule, segment=segment, **values)
        except ValidationError as error:
            add_service_errors(form, error, field_of=form.field_of)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("campaigns:trigger", pk=saved.pk)
    context = {"form": form, "rule": rule}
    if rule:
        context.update(outcomes=selectors.outcome_counts(rule), firings=selectors.recent_firings(rule))
    return render(request, "campaigns/triggers/rule_form.html", context)


@require_POST
@manager_required
def rule_delete(request, pk):
    rule = get_object_or_404(TriggerRule, pk=pk)
    if request.POST.get("confirm") != rule.name:
        messages.error(request, _("Type the rule's name to confirm deleting it."))
        return redirect("campaigns:trigger", pk=rule.pk)
    campaign = services.delete_rule(rule=rule, by=request.user)
    messages.success(request, _("Rule deleted; its campaign “%(name)s” keeps its tasks and outcomes.")
                     % {"name": campaign.name})
    return redirect("campaigns:triggers")


@login_required
def alerts(request):
    """Alerts of key-event rules about one's customers (a marketing manager: everyone's)."""
    found = selectors.alerts_for(request.user).order_by("-at", "-id")[:200]
    return render(request, "campaigns/triggers/alerts.html", {"alerts": found})


@require_POST
@login_required
def alerts_seen(request):
    count = services.mark_alerts_seen(user=request.user)
    messages.success(request, _("%(count)d alerts marked as seen.") % {"count": count})
    return redirect("campaigns:alerts")


@manager_required
def contact_limits(request):
    """The contact-pressure limits every launch and key-event rule obeys: the list, and one added."""
    form = ContactLimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle_services.save_contact_limit(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Limit saved; launches and key-event rules obey it from now on."))
            return redirect("campaigns:contact_limits")
    return render(request, "campaigns/triggers/contact_limits.html", {
        "form": form, "limits": ContactLimit.objects.all(),
        "quiet_hours": selectors.quiet_hours_text()})


@require_POST
@manager_required
def contact_limit_delete(request, pk):
    lifecycle_services.delete_contact_limit(pk=pk)  # again (a double click): nothing left to remove
    messages.success(request, _("Limit removed."))
    return redirect("campaigns:contact_limits")


@login_required
def pool(request):
    """The branch pool: key-event tasks nobody could take at once; any of the branch's account
    managers takes one."""
    tasks = branch_pool(request.user).select_related("campaign", "customer").order_by("priority", "created_at")[:200]
    return render(request, "campaigns/triggers/pool.html", {"tasks": tasks})


@require_POST
@login_required
def pool_take(request, pk):
    get_object_or_404(branch_tasks(request.user), pk=pk)  # another branch's task: not there
    try:
        workspace_services.take_from_pool(task_id=pk, user=request.user)
    except CampaignError as error:
        messages.error(request, str(error))
        return redirect("campaigns:pool")
    messages.success(request, _("The task is yours: it is in your queue."))
    return redirect("campaigns:panel", pk=pk)


@manager_required
def manager_load(request):
    """Each account manager's load (open tasks, tasks made today against their daily capacity) and
    availability, which the marketing manager sets here."""
    if request.method == "POST":
        user = get_object_or_404(User, pk=request.POST.get("user"))
        form = AvailabilityForm(request.POST)
        if form.is_valid():
            set_availability(user=user, **form.cleaned_data)
            messages.success(request, _("Saved for %(user)s.") % {"user": user.username})
            return redirect("campaigns:manager_load")
        messages.error(request, "; ".join(f"{form.fields[name].label}: {' '.join(problems)}"
                                          for name, problems in form.errors.items()))
    return render(request, "campaigns/triggers/manager_load.html", {"rows": selectors.manager_load()})
