"""QuickSelect writes the same markup as Django's template-rendered Select."""

import pytest
from django import forms
from django.test.html import parse_html

from core.widgets import QuickSelect, QuickSelectMultiple

CHOICES = [("", "---------"), ("a", "Alpha"), ("b&c", "B <&> C"), (3, "三")]
GROUPED = [("x", "Plain"), ("Group <1>", [("g1", "One"), ("g2", "Two")])]


@pytest.mark.parametrize(("quick", "plain", "choices", "value"), [
    (QuickSelect, forms.Select, CHOICES, "b&c"),
    (QuickSelect, forms.Select, CHOICES, None),
    (QuickSelect, forms.Select, GROUPED, "g2"),
    (QuickSelectMultiple, forms.SelectMultiple, CHOICES, ["a", "3"]),
    (QuickSelectMultiple, forms.SelectMultiple, CHOICES, []),
])
def test_same_markup_as_django(quick, plain, choices, value):
    attrs = {"id": "id_tag", "class": "tag-select", "size": 3, "required": True}
    expected = plain(attrs=attrs, choices=choices).render("tag", value)
    assert parse_html(quick(attrs=attrs, choices=choices).render("tag", value)) == parse_html(expected)
