"""Forms of the activity import wizard: the upload, then one target per column."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.importing import ENCODINGS

from .ingest import COLUMNS

KIND_LABELS = {"products": _("Products"), "holdings": _("Holdings (a snapshot)"), "transactions": _("Transactions"),
               "events": _("Events")}


class ActivityUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=list(KIND_LABELS.items()), label=_("What the file holds"))
    file = forms.FileField(label=_("CSV or XLSX file"))
    delimiter = forms.CharField(required=False, max_length=2, label=_("CSV delimiter (blank: detect; \\t for tab)"))
    encoding = forms.ChoiceField(choices=[("", _("Detect (UTF-8, else GBK)"))] + list(ENCODINGS.items()),
                                 required=False, label=_("Text encoding"))


class ActivityMappingForm(forms.Form):
    """One target per column of the uploaded file: a column of the kind, ignore, or (events) a property."""

    def __init__(self, *args, kind: str, headers: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(column, column) for column in COLUMNS[kind]] + [("ignore", _("ignore"))]
        if kind == "events":
            choices.append(("property", _("a property of the event")))
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(choices=choices, label=header,
                                                            initial=initial_mapping.get(header, "ignore"))

    def mapping(self) -> dict:
        return {"columns": {header: self.cleaned_data[f"col_{index}"] for index, header in enumerate(self.headers)}}
