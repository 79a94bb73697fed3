"""Auto-tag rule pages: the list, a new or changed rule with its preview, the rule's history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from core.forms import add_service_errors
from segments.expression import ExpressionError

from . import services
from .forms import TagRuleForm
from .models import TagRule
from .selectors import rule_history, rules_with_last_application


@manager_required
def rule_list(request):
    return render(request, "autotags/rule_list.html", {"rules": rules_with_last_application()})


@manager_required
def rule_edit(request, pk=None):
    """New or changed rule. "Preview" shows who would enter and leave, and saves nothing."""
    rule = get_object_or_404(TagRule.objects.select_related("tag"), pk=pk) if pk else None
    initial = {"name": rule.name, "slug": rule.tag.slug, "text": rule.text, "active": rule.active} if rule else None
    form = TagRuleForm(request.POST or None, initial=initial)
    if rule:
        form.fields["slug"].disabled = True
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        slug = rule.tag.slug if rule else data["slug"]
        try:
            if "preview" in request.POST:
                preview = services.preview_rule(text=data["text"], slug=slug)
            else:
                saved = services.save_rule(name=data["name"], text=data["text"], slug=slug, rule=rule, by=request.user,
                                           active=data["active"])
                messages.success(request, _("Rule saved; %(tag)s is being brought up to date.") % {"tag": saved.tag.slug})
                return redirect("autotags:rule", pk=saved.pk)
        except ExpressionError as error:
            form.add_error("text", str(error))
        except ValidationError as error:
            add_service_errors(form, error)
    context = {"form": form, "rule": rule, "preview": preview}
    if rule:
        context.update(rule_history(rule))
    return render(request, "autotags/rule_form.html", context)


@require_POST
@manager_required
def rule_delete(request, pk):
    rule = get_object_or_404(TagRule, pk=pk)
    if request.POST.get("confirm") != rule.tag.slug:
        messages.error(request, _("Type the tag's slug to confirm deleting the rule."))
        return redirect("autotags:rule", pk=rule.pk)
    tag = services.delete_rule(rule=rule)
    messages.success(request, _("Rule deleted; %(tag)s keeps its customers and can now be edited by hand.")
                     % {"tag": tag.slug})
    return redirect("autotags:rules")
