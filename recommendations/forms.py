"""Forms: the rules' thresholds (the page and the API read the same), the lookalike's settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from activity.models import ProductType
from segments.models import Segment

from .features import GROUPS
from .selectors import BASES


class RuleQueryForm(forms.Form):
    """Thresholds as fractions (0.01 = 1 %), like every rate in LoopCRM."""

    min_support = forms.FloatField(label=_("Minimum support"), min_value=0.0001, max_value=1, initial=0.01,
                                   help_text=_("Share of customers (with any product) holding the whole rule, "
                                               "e.g. 0.01 = 1 %."))
    min_confidence = forms.FloatField(label=_("Minimum confidence"), min_value=0, max_value=1, initial=0.3,
                                      help_text=_("Of those holding the left side, the share also holding the right."))
    min_lift = forms.FloatField(label=_("Minimum lift"), min_value=0, required=False, initial=1.0,
                                help_text=_("Above 1: the left side makes the right likelier. Empty: any lift."))
    basis = forms.ChoiceField(label=_("Over"), initial="holdings", required=False, choices=[
        ("holdings", _("Current holdings")), ("purchases", _("Purchases"))])
    days = forms.IntegerField(label=_("Purchases in the last (days)"), min_value=1, max_value=3650, required=False,
                              help_text=_("Purchases only; empty: every purchase on file."))
    product_type = forms.ChoiceField(label=_("Product type"), required=False,
                                     choices=[("", _("All types"))] + list(ProductType.choices))
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.order_by("code"), required=False,
                                    to_field_name="code", empty_label=_("All branches"))
    max_items = forms.IntegerField(label=_("Products per rule at most"), min_value=2, max_value=4, initial=3,
                                   required=False)

    def clean(self):
        data = super().clean()
        data["basis"] = data.get("basis") or "holdings"
        if data["basis"] not in BASES:
            self.add_error("basis", _("Choose holdings or purchases."))
        if data.get("days") and data["basis"] != "purchases":
            self.add_error("days", _("A window applies to purchases only."))
        data["max_items"] = data.get("max_items") or 3
        return data

    def rule_parameters(self) -> dict:
        """selectors.rules' arguments from the cleaned form."""
        data = self.cleaned_data
        return {"min_support": data["min_support"], "min_confidence": data["min_confidence"],
                "basis": data["basis"], "days": data.get("days"), "product_type": data.get("product_type") or None,
                "branch_id": data["branch"].pk if data.get("branch") else None, "max_items": data["max_items"],
                "min_lift": data.get("min_lift")}

    @classmethod
    def with_defaults(cls, query) -> "RuleQueryForm":
        """Bound to the query, with the initial values where a field is missing (a first visit)."""
        values = {name: field.initial for name, field in cls.base_fields.items() if field.initial is not None}
        values.update({key: query.get(key) for key in query if key in cls.base_fields})
        return cls(values)


class LookalikeForm(forms.Form):
    seed_segment = forms.ModelChoiceField(label=_("Seed segment"), queryset=Segment.objects.defer("snapshot"))
    name = forms.CharField(label=_("Name of the new segment"), max_length=120, required=False,
                           help_text=_("Empty: “Lookalike of <seed>”."))
    size = forms.IntegerField(label=_("Best N customers"), min_value=1, required=False)
    min_score = forms.FloatField(label=_("Or everyone scoring at least"), min_value=0, max_value=1, required=False,
                                 help_text=_("0–1: the model's similarity to the seed."))
    features = forms.MultipleChoiceField(label=_("Compare by"), choices=list(GROUPS.items()),
                                         initial=list(GROUPS), widget=forms.CheckboxSelectMultiple)
