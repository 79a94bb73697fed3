"""FilterSets shared by the campaign and task pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from customers.models import Channel

from .models import Campaign, Task


class CampaignFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=Campaign.Status.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))

    class Meta:
        model = Campaign
        fields = ["search", "status", "channel"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value) | Q(product__icontains=value)) \
            if value else queryset


class TaskFilter(django_filters.FilterSet):
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    status = django_filters.MultipleChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    group = django_filters.ChoiceFilter(choices=Task.Group.choices, label=_("Group"))
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), to_field_name="username", label=_("Account manager"))
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label=_("Due on or before"))
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label=_("Due on or after"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"))

    class Meta:
        model = Task
        fields = ["campaign", "status", "group", "assignee", "due_before", "due_after", "customer"]
