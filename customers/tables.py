"""Declared tables for the customer and tag lists (django-tables2)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Customer, Tag


class CustomerTable(tables.Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "1"},
                                                         "td__input": {"name": "selected"}})
    external_id = tables.Column(linkify=("customers:detail", {"pk": tables.A("pk")}))
    name = tables.Column(linkify=("customers:detail", {"pk": tables.A("pk")}))
    branch = tables.Column(accessor="branch__code", verbose_name=_("Branch"), order_by="branch__code")
    owner = tables.Column(accessor="owner__username", verbose_name=_("Account manager"), order_by="owner__username")
    assets = tables.Column(attrs={"td": {"class": "num"}, "th": {"class": "num"}})

    class Meta:
        model = Customer
        fields = ["select", "external_id", "name", "phone", "branch", "owner", "lifecycle_stage", "risk_level", "assets"]
        attrs = {"class": "grid"}
        order_by = "id"

    def render_assets(self, value):
        return format_html("{}", f"{value:,.2f}")


class TagTable(tables.Table):
    slug = tables.Column(verbose_name=_("Slug"))
    customer_count = tables.Column(verbose_name=_("Customers"), attrs={"td": {"class": "num"}})
    actions = tables.TemplateColumn(template_name="customers/_tag_actions.html", verbose_name="", orderable=False)

    class Meta:
        model = Tag
        fields = ["slug", "name", "category", "source", "customer_count", "created_at"]
        attrs = {"class": "grid"}
