"""Task tables: a campaign's tasks (managers) and the account manager's queue."""

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.models import Task


class TaskTable(tables.Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "1"},
                                                         "td__input": {"name": "selected"}})
    # empty_values=(): render even when the customer has no name (the demo's imported customers),
    # which is then shown by external id — never a bare "—" without a link.
    customer = tables.Column(accessor="customer__name", verbose_name=_("Customer"), order_by="customer__name",
                             empty_values=())
    assignee = tables.Column(accessor="assignee__username", verbose_name=_("Account manager"),
                             order_by="assignee__username")

    class Meta:
        model = Task
        fields = ["select", "customer", "assignee", "group", "status", "due_date", "contact_result", "response",
                  "amount", "completed_at"]
        attrs = {"class": "grid"}
        order_by = "id"

    def render_customer(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("customers:detail", args=[record.customer_id]),
                           record.customer)


class QueueTable(tables.Table):
    """The account manager's queue; each row opens the task in the work view (same filter)."""

    customer = tables.Column(accessor="customer__name", verbose_name=_("Customer"), orderable=False, empty_values=())
    campaign = tables.Column(accessor="campaign__name", verbose_name=_("Campaign"), orderable=False)
    assets = tables.Column(accessor="customer__assets", verbose_name=_("Assets"), orderable=False,
                           attrs={"td": {"class": "num"}})
    due_date = tables.Column(orderable=False)
    priority = tables.Column(orderable=False)

    def render_due_date(self, record, value):
        """The day, and the time where one applies (a wave's contact window, a key-event SLA)."""
        if record.due_at is None:
            return date_format(value, "Y-m-d")
        return date_format(timezone.localtime(record.due_at), "Y-m-d H:i")
    status = tables.Column(orderable=False)
    response = tables.Column(orderable=False)

    class Meta:
        model = Task
        fields = ["customer", "campaign", "due_date", "priority", "assets", "status", "response"]
        attrs = {"class": "grid"}

    def __init__(self, *args, query: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.query = query

    def render_customer(self, record, value):
        url = reverse("campaigns:work") + "?" + self.query + ("&" if self.query else "") + f"task={record.pk}"
        if not value:  # no name: the external id is the name, shown once
            return format_html('<a href="{}">{}</a>', url, record.customer.external_id)
        return format_html('<a href="{}">{}</a> <span class="muted small">{}</span>', url, value,
                           record.customer.external_id)

    def render_assets(self, value):
        return f"{value:,.0f}"
