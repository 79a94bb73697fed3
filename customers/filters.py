"""One FilterSet for the customer list page, the API and exports."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from accounts.models import Branch, User

from .models import Customer, CustomerTag, LifecycleStage, Tag

ASSETS_LIMIT = 10**14  # Customer.assets: 16 digits, 2 of them decimals


class CustomerFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    # One tag slug per `tag=` (repeat it for more): spectacular makes the list of it itself.
    tag = extend_schema_field({"type": "string"})(
        django_filters.ModelMultipleChoiceFilter(
            queryset=Tag.objects.all(), to_field_name="slug", method="filter_tags", label=_("Tags (all of)"),
            widget=forms.SelectMultiple(attrs={"size": 3, "class": "tag-select"}),
        )
    )
    branch = django_filters.ModelChoiceFilter(
        queryset=Branch.objects.all(), to_field_name="code", label=_("Branch")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), to_field_name="username", label=_("Account manager")
    )
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices, label=_("Lifecycle stage"))
    # Bounded as the columns are (a value beyond them overflowed the database driver: a 500).
    risk_level = django_filters.NumberFilter(label=_("Risk level"), min_value=1, max_value=5)
    assets_min = django_filters.NumberFilter(field_name="assets", lookup_expr="gte", label=_("Assets from"),
                                             min_value=-ASSETS_LIMIT, max_value=ASSETS_LIMIT)
    assets_max = django_filters.NumberFilter(field_name="assets", lookup_expr="lte", label=_("Assets to"),
                                             min_value=-ASSETS_LIMIT, max_value=ASSETS_LIMIT)

    class Meta:
        model = Customer
        fields = ["search", "tag", "branch", "owner", "lifecycle_stage", "risk_level", "assets_min", "assets_max"]

    def filter_search(self, queryset, name, value):
        """Exact id or e-mail, or a name or phone prefix.

        The OR over several columns is a scan (~200 ms at 1M customers, docs/benchmarks.md); prefix
        indexes on name and phone were dropped because this query never used them and they cost
        15 % of a large import.
        """
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(external_id=value) | Q(email__iexact=value) | Q(name__startswith=value) | Q(phone__startswith=value)
        )

    def filter_tags(self, queryset, name, tags):
        """Customers carrying every chosen tag, one EXISTS per tag (uses the tag index)."""
        for tag in tags:
            queryset = queryset.filter(
                Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag=tag))
            )
        return queryset
