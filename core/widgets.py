"""Select widgets that write their options in Python.

Django builds a dict per <option> and renders each through its own template include: the customer
list's filter and bulk forms (500 tags twice, the account managers twice) spent ~60 ms per page on it
with the reference data — half of the page. Same markup (tests/core/test_widgets.py), no template.
"""

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


class QuickSelectMixin:
    def render(self, name, value, attrs=None, renderer=None):
        attributes = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attributes["multiple"] = True
        selected = set(self.format_value(value))
        parts = [f'<select name="{escape(name)}"{flatatt(attributes)}>']
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                parts.append(f'<optgroup label="{escape(str(option_value))}">')
                parts += [self._option(inner_value, inner_label, selected) for inner_value, inner_label in label]
                parts.append("</optgroup>")
            else:
                parts.append(self._option(option_value, label, selected))
        parts.append("</select>")
        # Every value and label above is escaped (html.escape: Django's own escape is ~10x slower per
        # call through its lazy-string wrapper); flatatt escapes the attributes.
        return mark_safe("".join(parts))  # noqa: S308

    @staticmethod
    def _option(value, label, selected) -> str:
        text = "" if value is None else str(value)
        return f'<option value="{escape(text)}"{" selected" if text in selected else ""}>{escape(str(label))}</option>'


class QuickSelect(QuickSelectMixin, forms.Select):
    pass


class QuickSelectMultiple(QuickSelectMixin, forms.SelectMultiple):
    pass
