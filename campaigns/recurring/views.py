"""Recurring campaign pages (marketing managers): the week grid, a template, its approval."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from campaigns.errors import CampaignError
from campaigns.models import CampaignTemplate, Weekday
from core.forms import add_service_errors
from segments.expression import ExpressionError

from . import selectors, services
from .forms import TemplateForm


def _monday(text: str | None) -> date:
    """The Monday of ?week=2026-W49 (this week when missing or malformed)."""
    try:
        return date.fromisocalendar(int(text[:4]), int(text[6:8]), 1)
    except (TypeError, ValueError):
        return selectors.week_start(timezone.localdate())


def _label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


@manager_required
def calendar(request):
    """The week grid: days × (crowd, plan, channel, contact window), each template's wave that day."""
    monday = _monday(request.GET.get("week"))
    return render(request, "campaigns/recurring/calendar.html", {
        "days": selectors.week_grid(monday), "week": _label(monday), "previous": _label(monday - timedelta(days=7)),
        "next": _label(monday + timedelta(days=7)), "sunday": monday + timedelta(days=6), "monday": monday,
        "approval_required": settings.CAMPAIGN_APPROVAL_REQUIRED, "quiet_hours": settings.CONTACT_QUIET_HOURS})


@manager_required
def template_edit(request, pk=None):
    template = get_object_or_404(CampaignTemplate, pk=pk) if pk else CampaignTemplate()
    initial = {}
    if pk is None and request.GET.get("weekday") in {str(value) for value in Weekday.values}:
        initial["weekday"] = int(request.GET["weekday"])
    form = TemplateForm(request.POST or None, instance=template, initial=initial)
    if request.method == "POST" and form.is_valid():
        managers, products = form.chosen()
        try:
            saved = services.save_template(template=form.instance, by=request.user, managers=managers,
                                           products=products)
        except ExpressionError as error:
            form.add_error("text", str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("campaigns:template", pk=saved.pk)
    context = {"form": form, "template": template if pk else None,
               "approval_required": settings.CAMPAIGN_APPROVAL_REQUIRED}
    if pk:
        context["waves"], context["together"] = selectors.template_waves(template)
    return render(request, "campaigns/recurring/template_form.html", context)


@require_POST
@manager_required
def template_approve(request, pk):
    template = get_object_or_404(CampaignTemplate, pk=pk)
    try:
        services.approve_template(template=template, by=request.user)
    except CampaignError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Template approved: its waves launch from now on."))
    return redirect("campaigns:template", pk=pk)
