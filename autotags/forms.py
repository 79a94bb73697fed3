from django import forms
from django.utils.translation import gettext_lazy as _


class TagRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.CharField(label=_("Tag it maintains (slug)"), max_length=80,
                           help_text=_("A new tag, e.g. churn-warning. It becomes read-only by hand."))
    text = forms.CharField(label=_("Expression"), widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Any segment expression, e.g. churn_risk >= 0.7 AND holds(FUND-A)."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
