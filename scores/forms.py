"""The team's score settings, as one form (the intent weights as `event_type = weight` lines)."""

from django import forms
from django.utils.translation import gettext_lazy as _

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


class ScoreSettingsForm(forms.ModelForm):
    intent_weights = WeightsField(label=_("Intent weight per event type"))
    risk_coefficients = WeightsField(label=_("Risk coefficient per product type (0–1)"))

    class Meta:
        model = ScoreSettings
        fields = ["rfm_window_days", "intent_window_days", "intent_weights", "risk_coefficients", "size_weight",
                  "churned_after_days", "new_within_days", "declining_trend", "declining_idle_days", "trend_days",
                  "mature_value", "consultation_window_days"]

    def clean_risk_coefficients(self):
        coefficients = self.cleaned_data["risk_coefficients"]
        wrong = [name for name, value in coefficients.items() if value > 1]
        if wrong:
            raise forms.ValidationError(_("Risk coefficients are between 0 and 1 (%(types)s).") % {"types": ", ".join(wrong)})
        return coefficients

    def clean(self):
        cleaned = super().clean()
        for name in ("rfm_window_days", "intent_window_days", "trend_days", "consultation_window_days"):
            if cleaned.get(name) == 0:
                self.add_error(name, _("A window is at least one day."))
        return cleaned
