"""The scores page: the published run, its distributions and churn model, the settings, the lifecycle suggestion."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from customers.filters import CustomerFilter
from customers.selectors import customers_visible_to

from . import services
from .forms import ScoreSettingsForm
from .selectors import current_settings, distributions, distributions_of, lifecycle_moves_since, published_run, recent_runs
from .suggest import lifecycle_suggestion


@manager_required
def overview(request):
    settings = current_settings()
    form = ScoreSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        services.update_settings(by=request.user, **{name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Settings saved; the next run uses them."))
        return redirect("scores:overview")
    run = published_run()
    return render(request, "scores/overview.html", {
        "run": run, "form": form, "runs": recent_runs(), "moves": sorted(lifecycle_moves_since(7).items()),
        "suggestion": lifecycle_suggestion() if run else None, "settings": settings,
        "distributions": distributions(run.summary) if run else [],
    })


@login_required
def list_distribution(request):
    """The score distributions of the customers a customer-list filter shows (loaded after the list)."""
    run = published_run()
    if run is None:
        return HttpResponse("")
    customers = CustomerFilter(request.GET, queryset=customers_visible_to(request.user)).qs
    return render(request, "scores/_list_distribution.html", {"run": run, "distributions": distributions_of(customers, run)})


@require_POST
@manager_required
def recompute(request):
    job = services.queue_compute_scores(by=request.user)
    messages.success(request, _("Scores are being recomputed (job %(job)s).") % {"job": job.pk})
    return redirect(reverse("scores:overview"))


@require_POST
@manager_required
def accept_suggestion(request):
    suggestion = lifecycle_suggestion()
    if suggestion is None:
        messages.error(request, _("There is no suggestion to accept yet."))
    else:
        services.accept_lifecycle_suggestion(by=request.user, suggestion=suggestion)
        messages.success(request, _("The suggested thresholds are now the lifecycle rules; the next run uses them."))
    return redirect("scores:overview")
