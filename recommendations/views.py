"""Pages: association rules (with one-click audiences and draft campaigns), lookalikes, and the next
best products panel on the customer page and in the work view."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from core.forms import add_service_errors
from core.models import Job
from customers.selectors import customers_visible_to

from . import selectors, services
from .associations import TooManyItemsets
from .forms import LookalikeForm, RuleQueryForm
from .services import LOOKALIKE_TASK

RULES_SHOWN = 200


@manager_required
def rules(request):
    form = RuleQueryForm.with_defaults(request.GET)
    found, problem = None, None
    if form.is_valid():
        try:
            found = selectors.rules(**form.rule_parameters())
        except TooManyItemsets:
            problem = _("Too many product combinations at this support: raise the minimum support.")
    if found:
        for rule in found["rules"][:RULES_SHOWN]:
            rule["audience_url"] = reverse("segments:builder") + "?" + urlencode({"text": rule["audience"]})
            rule["campaign_url"] = reverse("campaigns:create") + "?" + urlencode(
                [("name", _("Offer %(products)s to holders of %(held)s") % {
                    "products": ", ".join(rule["consequent"]), "held": ", ".join(rule["antecedent"])}),
                 ("text", rule["audience"])] + [("products", code) for code in rule["consequent"]])
    return render(request, "recommendations/rules.html", {
        "form": form, "found": found, "problem": problem, "shown": RULES_SHOWN,
        "rows": found["rules"][:RULES_SHOWN] if found else []})


@manager_required
def lookalike(request):
    form = LookalikeForm(request.POST or None, initial={"seed_segment": request.GET.get("seed")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.queue_lookalike(by=request.user, seed=data["seed_segment"], name=data["name"],
                                           size=data["size"], min_score=data["min_score"], features=data["features"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("recommendations:lookalike_status", pk=job.pk)
    return render(request, "recommendations/lookalike.html", {"form": form})


@manager_required
def lookalike_status(request, pk):
    job = get_object_or_404(Job, pk=pk, task=LOOKALIKE_TASK)
    template = "recommendations/_lookalike_progress.html" if request.htmx else "recommendations/lookalike_status.html"
    if job.state == Job.State.SUCCEEDED and request.htmx is False and "segment" in job.result:
        messages.success(request, _("Lookalike saved as segment %(name)s.") % {"name": job.result["name"]})
    return render(request, template, {"job": job})


@login_required
def customer_next_best(request, pk):
    """htmx panel: the next best products of a customer the user may see (404 otherwise)."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    return render(request, "recommendations/_next_best.html", {
        "customer": customer, "suggestions": selectors.next_best(customer)})
