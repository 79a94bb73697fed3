"""The team's score settings, as one form (the intent weights as `event_type = weight` lines)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from activity.ingest import EVENT_TYPE
from activity.models import TransactionKind

from .models import ScoreSettings


class WeightsField(forms.CharField):
    """`type = number` per line ↔ {type: number}."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key} = {weight:g}" for key, weight in value.items())
        return value

    def to_python(self, value):
        text = super().to_python(value)
        weights = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, amount = line.partition("=")
            name = name.strip()
            try:
                weight = float(amount)
            except ValueError:
                weight = None
            if not sep or not name or weight is None or weight < 0 or weight != weight or weight == float("inf"):
                raise forms.ValidationError(_("Line %(line)d: write `event_type = weight` with a weight of at least 0.")
                                            % {"line": number})
            weights[name] = weight
        return weights


class NamesField(forms.CharField):
    """Comma-separated names ↔ a list (event types, transaction kinds)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        names = [name.strip() for name in super().to_python(value).split(",") if name.strip()]
        wrong = [name for name in names if not EVENT_TYPE.match(name)]
        if wrong:
            raise forms.ValidationError(_("Not a type name: %(names)s.") % {"names": ", ".join(wrong)})
        return list(dict.fromkeys(names))


class ScoreSettingsForm(forms.ModelForm):
    intent_weights = WeightsField(label=_("Intent weight per event type"))
    risk_coefficients = WeightsField(label=_("Risk coefficient per product type (0–1)"))
    purchase_kinds = NamesField(label=_("Transaction kinds that are purchases (churn model)"))
    consultation_events = NamesField(label=_("Event types that are consultations"), required=False)
    advisory_contract_events = NamesField(label=_("Event types that are advisory contracts"), required=False)

    class Meta:
        model = ScoreSettings
        fields = ["rfm_window_days", "intent_window_days", "intent_weights", "risk_coefficients", "size_weight",
                  "churned_after_days", "new_within_days", "declining_trend", "declining_idle_days", "trend_days",
                  "mature_value", "purchase_kinds", "consultation_window_days", "consultation_events",
                  "advisory_contract_events"]

    def clean_risk_coefficients(self):
        coefficients = self.cleaned_data["risk_coefficients"]
        wrong = [name for name, value in coefficients.items() if value > 1]
        if wrong:
            raise forms.ValidationError(_("Risk coefficients are between 0 and 1 (%(types)s).") % {"types": ", ".join(wrong)})
        return coefficients

    def clean_purchase_kinds(self):
        kinds = self.cleaned_data["purchase_kinds"]
        wrong = [kind for kind in kinds if kind not in TransactionKind.values]
        if wrong or not kinds:
            raise forms.ValidationError(_("Kinds are some of: %(kinds)s.") % {"kinds": ", ".join(TransactionKind.values)})
        return kinds

    def clean(self):
        cleaned = super().clean()
        for name in ("rfm_window_days", "intent_window_days", "trend_days", "consultation_window_days"):
            if cleaned.get(name) == 0:
                self.add_error(name, _("A window is at least one day."))
        return cleaned
