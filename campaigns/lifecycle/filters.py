"""Campaign filters: one FilterSet for the list page and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from customers.models import Channel


class CampaignFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=Campaign.Status.choices, label=_("Status"), distinct=False)
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))

    class Meta:
        model = Campaign
        fields = ["search", "status", "channel"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value) | Q(product__icontains=value)) \
            if value else queryset
