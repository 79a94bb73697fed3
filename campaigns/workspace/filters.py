"""Task filters: a campaign's task list, the account manager's queue, the API."""

import django_filters
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from campaigns.models import Campaign, Task


class TaskFilter(django_filters.FilterSet):
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    # distinct=False: no join multiplies rows here, and DISTINCT over every column costs ms per page.
    status = django_filters.MultipleChoiceFilter(choices=Task.Status.choices, label=_("Status"), distinct=False)
    group = django_filters.ChoiceFilter(choices=Task.Group.choices, label=_("Group"))
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), to_field_name="username", label=_("Account manager"))
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label=_("Due on or before"))
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte", label=_("Due on or after"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer id"), min_value=1,
                                           max_value=2**63 - 1)
    trigger = django_filters.NumberFilter(field_name="trigger_id", label=_("Key-event rule id"), min_value=1,
                                          max_value=2**63 - 1)

    class Meta:
        model = Task
        fields = ["campaign", "status", "group", "assignee", "due_before", "due_after", "customer", "trigger"]


class TaskQueueFilter(django_filters.FilterSet):
    """The account manager's queue: which tasks (when due, which campaign) and in what order."""

    BUCKETS = [("open", _("All open")), ("overdue", _("Overdue")), ("today", _("Due today")),
               ("upcoming", _("Upcoming")), ("done", _("Done")), ("all", _("Everything"))]
    SORTS = [("due", _("Due date")), ("priority", _("Priority")), ("assets", _("Assets (largest first)"))]

    bucket = django_filters.ChoiceFilter(choices=BUCKETS, method="filter_bucket", label=_("Show"), empty_label=None)
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.filter(status=Campaign.Status.RUNNING).order_by("name"), label=_("Campaign"))
    priority = django_filters.ChoiceFilter(choices=Task._meta.get_field("priority").choices, label=_("Priority"))
    q = django_filters.CharFilter(method="filter_search", label=_("Customer"))
    sort = django_filters.ChoiceFilter(choices=SORTS, method="filter_sort", label=_("Sort by"), empty_label=None)

    class Meta:
        model = Task
        fields = ["bucket", "campaign", "priority", "q", "sort"]

    def __init__(self, data=None, *args, **kwargs):
        data = (data or QueryDict()).copy()
        data.setdefault("bucket", "open")
        data.setdefault("sort", "due")
        super().__init__(data, *args, **kwargs)

    def filter_bucket(self, queryset, name, value):
        today = timezone.localdate()
        open_tasks = queryset.filter(status__in=Task.OPEN_STATUSES)
        return {
            "open": open_tasks,
            "overdue": open_tasks.filter(due_date__lt=today),
            "today": open_tasks.filter(due_date=today),
            "upcoming": open_tasks.filter(Q(due_date__gt=today) | Q(due_date__isnull=True)),
            "done": queryset.filter(status=Task.Status.DONE),
        }.get(value, queryset)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(customer__name__icontains=value) | Q(customer__external_id=value)
                               | Q(customer__phone__startswith=value))

    def filter_sort(self, queryset, name, value):
        order = {"priority": ["priority", F("due_date").asc(nulls_last=True), "id"],
                 "assets": ["-customer__assets", "id"]}.get(value, [F("due_date").asc(nulls_last=True), "priority", "id"])
        return queryset.order_by(*order)
