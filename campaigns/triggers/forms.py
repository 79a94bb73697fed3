import json

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Priority, TriggerRule
from customers.models import Channel

from .thresholds import KINDS

THRESHOLD_PARTS = ("days", "pct", "min_amount", "direction", "min_trades")


class TriggerRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    event = forms.CharField(label=_("When a customer has the event"), max_length=64, required=False,
                            help_text=_("An event type, e.g. account_opening_failed. Empty: when a customer enters "
                                        "the segment below (a condition such as asset_change_30d <= -0.3)."))
    properties = forms.CharField(label=_("With properties (JSON)"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text=_("e.g. {\"step\": \"kyc\", \"loss_pct\": {\"gte\": 20}}; empty: any."))
    absent_event = forms.CharField(label=_("Unless followed by the event"), max_length=64, required=False)
    absent_within_hours = forms.IntegerField(label=_("within (hours)"), min_value=1, max_value=24 * 90,
                                             required=False)
    segment = forms.CharField(label=_("For customers in"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("A segment expression, e.g. assets >= 500000; empty: every customer."))
    threshold_kind = forms.ChoiceField(label=_("Or when a threshold is crossed"), required=False,
                                       choices=[("", _("— no threshold —"))] + list(KINDS.items()),
                                       help_text=_("Watched without an event, within the segment above."))
    threshold_days = forms.IntegerField(label=_("over / within (days)"), min_value=1, max_value=366, required=False)
    threshold_pct = forms.FloatField(label=_("by at least (%)"), min_value=0, required=False)
    threshold_min_amount = forms.FloatField(label=_("a holding worth at least"), min_value=0, required=False,
                                            help_text=_("For a heavy holding's loss: its value at the start."))
    threshold_direction = forms.ChoiceField(label=_("trading"), required=False,
                                            choices=[("down", _("fell")), ("up", _("rose"))])
    threshold_min_trades = forms.IntegerField(label=_("with at least (trades)"), min_value=1, max_value=366,
                                              required=False)
    action = forms.ChoiceField(label=_("Action"), choices=TriggerRule.Action.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.HIGH)
    sla_hours = forms.IntegerField(label=_("SLA (hours)"), min_value=1, max_value=24 * 60, initial=24)
    script = forms.CharField(label=_("Call script"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    quiet_hours = forms.ChoiceField(label=_("In quiet hours"), choices=TriggerRule.QuietHours.choices)
    window_hours = forms.IntegerField(label=_("At most once per customer per (hours)"), min_value=1,
                                      max_value=24 * 365, initial=24)
    service = forms.BooleanField(label=_("Service contact"), required=False,
                                 help_text=_("Helping the customer (an opening to finish) rather than marketing: "
                                             "exempt from the contact-pressure limits that exempt service."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_properties(self):
        text = self.cleaned_data["properties"].strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": error.msg}) from error

    def clean(self):
        """The threshold parts become one `threshold` (what the service and the API take)."""
        data = super().clean()
        kind = data.pop("threshold_kind", "")
        parts = {name: data.pop(f"threshold_{name}", None) for name in THRESHOLD_PARTS}
        if kind:
            threshold = {"kind": kind}
            for name, value in parts.items():
                if value not in (None, "") and (name != "direction" or kind == "trading_change"):
                    threshold[name] = int(value) if isinstance(value, float) and value.is_integer() else value
            if kind != "trading_change":
                threshold.pop("min_trades", None)
            if kind not in ("holding_loss",):
                threshold.pop("min_amount", None)
            if kind == "maturing":
                threshold.pop("pct", None)
            data["threshold"] = threshold
        else:
            data["threshold"] = None
        return data

    @staticmethod
    def field_of(error_field: str) -> str | None:
        """Where a service error on `error_field` shows on this form."""
        if error_field == "threshold":
            return "threshold_kind"
        return error_field if error_field in TriggerRuleForm.base_fields else None

    @classmethod
    def initial_of(cls, rule: TriggerRule) -> dict:
        initial = {name: getattr(rule, name) for name in cls.base_fields
                   if name not in ("segment", "properties") and not name.startswith("threshold_")}
        initial["segment"] = rule.text
        initial["properties"] = json.dumps(rule.properties, ensure_ascii=False) if rule.properties else ""
        if rule.threshold:
            initial["threshold_kind"] = rule.threshold["kind"]
            initial.update({f"threshold_{name}": rule.threshold[name] for name in THRESHOLD_PARTS
                            if name in rule.threshold})
        return initial


class ContactLimitForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Every channel"))] + list(Channel.choices))
    period_days = forms.IntegerField(label=_("Period (days)"), min_value=1, max_value=90, initial=7)
    max_contacts = forms.IntegerField(label=_("At most (contacts per customer)"), min_value=1, max_value=100,
                                      initial=2)
    exempt_service = forms.BooleanField(label=_("Service contacts exempt"), required=False, initial=True)


class AvailabilityForm(forms.Form):
    daily_capacity = forms.IntegerField(label=_("Tasks per day"), min_value=1, max_value=10_000, required=False)
    away_until = forms.DateField(label=_("Away until"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
