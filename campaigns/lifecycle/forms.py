"""The campaign form: its fields; every rule it shows is the service's (save_campaign)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.selectors import account_managers
from activity.models import Product
from campaigns.lifecycle import services
from campaigns.models import Campaign
from segments.compiler import checked_expression
from segments.expression import ExpressionError


def account_managers_field() -> forms.ModelMultipleChoiceField:
    """Who shares the tasks (a campaign's or a recurring template's)."""
    return forms.ModelMultipleChoiceField(
        queryset=account_managers(), required=False, label=_("Account managers"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("For round robin and fewest open tasks; for “by branch”, limits the branch's managers."))


def products_field(help_text) -> forms.ModelMultipleChoiceField:
    """The products promoted (a campaign's or a recurring template's)."""
    return forms.ModelMultipleChoiceField(queryset=Product.objects.all(), required=False,
                                          label=_("Products promoted"), widget=forms.SelectMultiple(attrs={"size": 6}),
                                          help_text=help_text)


class CampaignForm(forms.ModelForm):
    text = forms.CharField(required=False, label=_("Audience expression"), widget=forms.Textarea(attrs={
        "rows": 2, "spellcheck": "false", "autocomplete": "off", "placeholder": "poutcome-success AND NOT loan-yes"}),
        help_text=_("Or choose a saved segment above."))
    account_managers = account_managers_field()
    products = products_field(_("Their purchases after launch are the campaign's attributed conversions, in the "
                                "treated and the holdout group alike; the riskiest one sets the suitability level."))

    class Meta:
        model = Campaign
        fields = ["name", "objective", "product", "channel", "priority", "segment", "text", "start_at", "end_date",
                  "due_date", "sla_days", "cost_fixed", "cost_per_contact", "value_per_conversion", "holdout_pct",
                  "holdout_seed", "strategy", "account_managers", "frequency_cap_days", "purpose", "script",
                  "products", "attribution_days", "suitability"]
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
        self.fields["attribution_days"].required = False  # blank: the model's default (30 days)
        self.fields["purpose"].required = False  # blank: marketing
        self.fields["segment"].empty_label = _("— an expression below —")
        if self.instance.pk and not self.instance.is_editable:
            for name in Campaign.LAUNCH_FIELDS & set(self.fields):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed at launch.")

    def clean_purpose(self):
        return self.cleaned_data.get("purpose") or Campaign._meta.get_field("purpose").default

    def clean_attribution_days(self):
        value = self.cleaned_data.get("attribution_days")
        return Campaign._meta.get_field("attribution_days").default if value in (None, "") else value

    def clean_text(self):
        text = self.cleaned_data.get("text", "")
        if text.strip() and not self.fields["text"].disabled:
            try:
                checked_expression(text=text)
            except ExpressionError as error:
                raise forms.ValidationError(str(error)) from error
        return text

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        if self.instance.is_editable:
            self.instance.expression = None  # the service reads the text
        managers = None if self.fields["account_managers"].disabled else list(
            self.cleaned_data.get("account_managers") or [])
        try:
            services.check_settings(self.instance, managers=managers, products=self.chosen_products())
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                if field not in self.errors:  # an input error on the same field says more
                    self.add_error(field if field in self.fields else None, problems)

    @staticmethod
    def initial_from_query(query) -> dict:
        """A new campaign drafted from a link (a recommendation's "draft a campaign"): name, audience
        text and promoted products (codes) from the query string; unknown codes are left out."""
        initial = {key: query[key] for key in ("name", "text") if query.get(key)}
        codes = query.getlist("products")
        if codes:
            initial["products"] = list(Product.objects.filter(code__in=codes))
        return initial

    def chosen_products(self) -> list | None:
        return None if self.fields["products"].disabled else list(self.cleaned_data.get("products") or [])

    def apply(self) -> tuple[Campaign, list | None, list | None]:
        """The instance with the form's values (segment or expression), the managers and products to set."""
        campaign = self.instance
        if not campaign.is_editable:
            return campaign, None, None
        campaign.expression = None  # the service reads the text (or refuses text beside a segment)
        return campaign, list(self.cleaned_data.get("account_managers") or []), self.chosen_products()
