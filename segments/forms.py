from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Segment


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120, label=pgettext_lazy("segment", "Name"))  # 名称, not a person's 姓名
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Description"))
    kind = forms.ChoiceField(choices=Segment.Kind.choices, label=_("Kind"))
    text = forms.CharField(label=_("Expression"), widget=forms.Textarea(attrs={
        "rows": 3, "spellcheck": "false", "autocomplete": "off",
        "placeholder": "poutcome-success AND (housing-yes OR marital-single) AND NOT loan-yes AND assets >= 1000",
    }))


class OverlapForm(forms.Form):
    crowd_1 = forms.CharField(label=_("Crowd 1"))
    crowd_2 = forms.CharField(label=_("Crowd 2"))
    crowd_3 = forms.CharField(label=_("Crowd 3"), required=False)
    crowd_4 = forms.CharField(label=_("Crowd 4"), required=False)

    def texts(self) -> list[str]:
        return [self.cleaned_data[f"crowd_{n}"] for n in range(1, 5) if self.cleaned_data.get(f"crowd_{n}")]
