"""Forms of the account manager's workspace: outcome, saved queue views, reassignment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.selectors import account_managers
from campaigns.models import FailureReason, Outcome, Task
from core.params import object_id

MAX_SELECTED = 1000  # ticked one by one; beyond it "all matching the filter" says it in one condition


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=account_managers(), to_field_name="username", label=_("Give to"))
    ids = forms.CharField(required=False, widget=forms.HiddenInput)
    all_matching = forms.BooleanField(required=False, label=_("All open tasks matching the filter"))

    def clean(self):
        data = super().clean()
        selected = [pk for pk in map(object_id, self.data.getlist("selected")) if pk is not None]
        if len(selected) > MAX_SELECTED:
            raise forms.ValidationError(_("Select at most %(limit)d tasks one by one, or choose all tasks matching "
                                          "the filter.") % {"limit": MAX_SELECTED})
        if not selected and not data.get("all_matching"):
            raise forms.ValidationError(_("Select tasks, or choose all tasks matching the filter."))
        data["selected"] = selected
        return data


# One key per outcome in the work view: (contact result, response).
RESULTS = [(outcome.value, outcome.label, *outcome.parts) for outcome in Outcome]


RESULT_PARTS = {code: (contact, response) for code, _label, contact, response in RESULTS}


def result_code(task: Task) -> str:
    """The work view's single choice for a task's saved outcome (blank when none yet)."""
    outcome = Outcome.of(task.contact_result, task.response)
    return outcome.value if outcome else ""


class OutcomeForm(forms.Form):
    """The work view's outcome: one result (number keys 1–8), then the details it needs."""

    result = forms.ChoiceField(label=_("Result"), widget=forms.RadioSelect,
                               choices=[(code, label) for code, label, _contact, _response in RESULTS])
    failure_reason = forms.ModelChoiceField(queryset=FailureReason.objects.filter(active=True), to_field_name="code",
                                            required=False, label=_("Reason"), empty_label=_("— reason —"))
    failure_note = forms.CharField(required=False, max_length=200, label=_("Reason details"))
    amount = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2, label=_("Amount"))
    product = forms.CharField(required=False, max_length=120, label=_("Product"))
    next_follow_up = forms.DateField(required=False, label=_("Next follow-up"),
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(required=False, max_length=5000, label=_("Note"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def outcome(self) -> dict:
        """The fields log_outcome takes."""
        data = self.cleaned_data
        contact, response = RESULT_PARTS[data["result"]]
        reason = data.get("failure_reason")
        return {"contact_result": contact, "response": response, "failure_reason": reason.code if reason else "",
                "failure_note": data.get("failure_note", ""), "amount": data.get("amount"),
                "product": data.get("product", ""), "note": data.get("note", ""),
                "next_follow_up": data.get("next_follow_up")}

    @classmethod
    def for_task(cls, task: Task) -> "OutcomeForm":
        return cls(initial={
            "result": result_code(task), "failure_reason": task.failure_reason or None,
            "failure_note": task.failure_note, "amount": task.amount, "product": task.product,
            "next_follow_up": task.next_follow_up, "note": task.note, "version": task.version})


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=60, label=_("Save this view as"))
