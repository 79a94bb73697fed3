"""The recurring template form: its fields; every rule it shows is the service's (save_template)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.lifecycle.forms import account_managers_field, products_field
from campaigns.models import CampaignTemplate
from segments.compiler import checked_expression
from segments.expression import ExpressionError


class TemplateForm(forms.ModelForm):
    text = forms.CharField(required=False, label=_("Crowd (expression)"), widget=forms.Textarea(attrs={
        "rows": 2, "spellcheck": "false", "autocomplete": "off", "placeholder": "recency_days >= 180 AND assets >= 50000"}),
        help_text=_("Or choose a saved segment above. Resolved afresh for every wave."))
    account_managers = account_managers_field()
    products = products_field(_("Their purchases after each wave are its attributed conversions (treated and holdout "
                                "alike)."))

    class Meta:
        model = CampaignTemplate
        fields = ["name", "plan", "weekday", "window_start", "window_end", "segment", "text", "channel", "priority",
                  "script", "holdout_pct", "strategy", "account_managers", "frequency_cap_days", "purpose",
                  "products", "attribution_days", "cost_fixed", "cost_per_contact", "value_per_conversion", "active"]
        widgets = {
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "script": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].required = False
        self.fields["segment"].empty_label = _("— an expression below —")

    def clean_text(self):
        text = self.cleaned_data.get("text", "")
        if text.strip():
            try:
                checked_expression(text=text)
            except ExpressionError as error:
                raise forms.ValidationError(str(error)) from error
        return text

    def _post_clean(self):
        super()._post_clean()
        self.instance.expression = None  # the service reads the text

    def chosen(self) -> tuple[list, list]:
        return list(self.cleaned_data.get("account_managers") or []), list(self.cleaned_data.get("products") or [])
