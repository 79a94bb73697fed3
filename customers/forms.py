"""HTML forms for customers, tags and imports."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.selectors import account_managers
from core.params import object_id
from core.widgets import QuickSelect

from .importing import ENCODINGS
from .mapping import PRESETS, TARGETS
from .models import Tag


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["slug", "name", "category", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class TagMergeForm(forms.Form):
    sources = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), label=_("Merge these tags"),
                                             widget=forms.SelectMultiple(attrs={"size": 10}))
    target = forms.ModelChoiceField(queryset=Tag.objects.all(), label=_("into this tag"))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CustomerTagForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), to_field_name="slug", label=_("Tag"))


MAX_SELECTED = 1000  # ticked one by one; beyond it "all matching the filter" says it in one condition


class BulkActionForm(forms.Form):
    ACTIONS = [("add_tag", _("Add tag")), ("remove_tag", _("Remove tag")), ("assign_owner", _("Assign account manager"))]
    action = forms.ChoiceField(choices=ACTIONS, label=_("Action"))
    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), to_field_name="slug", required=False, label=_("Tag"),
                                 widget=QuickSelect)
    owner = forms.ModelChoiceField(queryset=account_managers(), to_field_name="username", required=False,
                                   label=_("Account manager"), widget=QuickSelect)
    ids = forms.CharField(required=False, widget=forms.HiddenInput)
    all_matching = forms.BooleanField(required=False, label=_("All customers matching the filter"))

    def clean(self):
        data = super().clean()
        if data.get("action") in ("add_tag", "remove_tag") and not data.get("tag"):
            self.add_error("tag", _("Choose a tag."))
        if data.get("action") == "assign_owner" and not data.get("owner"):
            self.add_error("owner", _("Choose an account manager."))
        raw_ids = [part for part in (data.get("ids") or "").split(",") if part.strip()]
        id_list = [object_id(part) for part in raw_ids]
        if len(id_list) > MAX_SELECTED:
            raise forms.ValidationError(_("Select at most %(limit)d customers one by one, or choose all matching the "
                                          "filter.") % {"limit": MAX_SELECTED})
        if None in id_list:
            raise forms.ValidationError(_("The selection is not valid; reload the page."))
        data["id_list"] = id_list
        if not data["id_list"] and not data.get("all_matching"):
            raise forms.ValidationError(_("Select at least one customer, or all matching the filter."))
        return data


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    preset = forms.ChoiceField(choices=[("", _("Guess from the header"))] + [(name, name) for name in PRESETS],
                               required=False, label=_("Mapping preset"))
    delimiter = forms.CharField(required=False, max_length=2, label=_("CSV delimiter (blank: detect; \\t for tab)"))
    encoding = forms.ChoiceField(choices=[("", _("Detect (UTF-8, else GBK)"))] + list(ENCODINGS.items()),
                                 required=False, label=_("Text encoding"))


TARGET_LABELS = {
    "tag": _("tag: column-value"), "flag": _("tag if yes"), "tags": _("tag slugs separated by |"),
    "extra": _("extra attribute"), "ignore": _("ignore"), "age": _("age (sets birth date)"),
}


class ImportMappingForm(forms.Form):
    """One choice per column of the uploaded file."""

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(target, TARGET_LABELS.get(target, target)) for target in TARGETS]
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices, label=header, initial=initial_mapping.get(header, "extra"))
        self.fields["row_id_prefix"] = forms.CharField(
            required=False, max_length=20, label=_("Row id prefix (when no column is the external id)"))

    def mapping(self) -> dict:
        columns = {header: self.cleaned_data[f"col_{index}"] for index, header in enumerate(self.headers)}
        return {"columns": columns, "row_id_prefix": self.cleaned_data.get("row_id_prefix", "")}
