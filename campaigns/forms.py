"""HTML forms for campaigns and task reassignment."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import account_managers
from segments.compiler import checked_expression
from segments.expression import ExpressionError

from .models import Campaign, FailureReason, Strategy, Task


class CampaignForm(forms.ModelForm):
    text = forms.CharField(required=False, label=_("Audience expression"), widget=forms.Textarea(attrs={
        "rows": 2, "spellcheck": "false", "autocomplete": "off", "placeholder": "vip AND NOT recharged"}),
        help_text=_("Or choose a saved segment above."))
    account_managers = forms.ModelMultipleChoiceField(
        queryset=account_managers(), required=False, label=_("Account managers"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("For round robin and fewest open tasks; for “by branch”, limits the branch's managers."))

    class Meta:
        model = Campaign
        fields = ["name", "objective", "product", "channel", "priority", "segment", "text", "start_at", "end_date",
                  "due_date", "sla_days", "cost_fixed", "cost_per_contact", "value_per_conversion", "holdout_pct",
                  "holdout_seed", "strategy", "account_managers", "frequency_cap_days", "script"]
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 2}),
            "script": forms.Textarea(attrs={"rows": 6}),
            "start_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].required = False
        self.fields["segment"].empty_label = _("— an expression below —")
        if self.instance.pk and not self.instance.is_editable:
            for name in Campaign.LAUNCH_FIELDS & set(self.fields):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed at launch.")

    def clean_text(self):
        text = self.cleaned_data.get("text", "")
        if text.strip() and not self.fields["text"].disabled:
            try:
                checked_expression(text=text)
            except ExpressionError as error:
                raise forms.ValidationError(str(error)) from error
        return text

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.instance.is_editable:
            return data
        if not data.get("segment") and not (data.get("text") or "").strip():
            self.add_error("text", _("Choose a saved segment or write an audience expression."))
        if data.get("segment") and (data.get("text") or "").strip():
            self.add_error("text", _("Use either a saved segment or an expression, not both."))
        if data.get("strategy") in (Strategy.ROUND_ROBIN, Strategy.LEAST_OPEN) and not data.get("account_managers"):
            self.add_error("account_managers", _("Choose the account managers to share the tasks."))
        due = data.get("due_date")
        if due and due < timezone.localdate() and due != self.initial.get("due_date"):
            self.add_error("due_date", _("The due date is in the past."))
        return data

    def apply(self) -> tuple[Campaign, list | None]:
        """The instance with the form's values (segment or expression), and the managers to set."""
        campaign = self.instance
        if not campaign.is_editable:
            return campaign, None
        if self.cleaned_data.get("segment"):
            campaign.expression, campaign.text = None, ""
        else:
            campaign.expression = None  # read from the text by the service
        return campaign, list(self.cleaned_data.get("account_managers") or [])


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=account_managers(), to_field_name="username", label=_("Give to"))
    ids = forms.CharField(required=False, widget=forms.HiddenInput)
    all_matching = forms.BooleanField(required=False, label=_("All open tasks matching the filter"))

    def clean(self):
        data = super().clean()
        selected = [int(pk) for pk in self.data.getlist("selected") if str(pk).isdigit()]
        if not selected and not data.get("all_matching"):
            raise forms.ValidationError(_("Select tasks, or choose all tasks matching the filter."))
        data["selected"] = selected
        return data


# One key per outcome in the work view: (contact result, response).
RESULTS = [
    ("converted", _("Converted"), Task.ContactResult.REACHED, Task.Response.CONVERTED),
    ("interested", _("Interested"), Task.ContactResult.REACHED, Task.Response.INTERESTED),
    ("call_back", _("Call back later"), Task.ContactResult.REACHED, Task.Response.CALL_BACK),
    ("not_interested", _("Not interested"), Task.ContactResult.REACHED, Task.Response.NOT_INTERESTED),
    ("declined", _("Declined"), Task.ContactResult.REACHED, Task.Response.DECLINED),
    ("unreachable", _("Unreachable"), Task.ContactResult.UNREACHABLE, ""),
    ("wrong_number", _("Wrong number"), Task.ContactResult.WRONG_NUMBER, ""),
    ("refused", _("Refused contact"), Task.ContactResult.REFUSED, ""),
]
RESULT_PARTS = {code: (contact, response) for code, _label, contact, response in RESULTS}


def result_code(task: Task) -> str:
    """The work view's single choice for a task's saved outcome (blank when none yet)."""
    for code, (contact, response) in RESULT_PARTS.items():
        if task.contact_result == contact and task.response == response:
            return code
    return ""


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
