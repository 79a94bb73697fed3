"""Declared tables for the campaign and task lists (django-tables2)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Task


class CampaignTable(tables.Table):
    """`figures` (campaign id → progress_by_campaign row) is set by the view for the shown page."""

    name = tables.Column(linkify=("campaigns:detail", {"pk": tables.A("pk")}))
    status = tables.Column()
    audience_size = tables.Column(verbose_name=_("Audience"), attrs={"td": {"class": "num"}})
    task_count = tables.Column(verbose_name=_("Tasks"), attrs={"td": {"class": "num"}})
    progress = tables.Column(verbose_name=_("Done"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})
    success = tables.Column(verbose_name=_("Success rate"), empty_values=(), orderable=False,
                            attrs={"td": {"class": "num"}})
    roi = tables.Column(verbose_name=_("ROI so far"), empty_values=(), orderable=False, attrs={"td": {"class": "num"}})
    owner = tables.Column(accessor="owner__username", verbose_name=_("Owner"), order_by="owner__username")

    figures: dict = {}

    class Meta:
        model = Campaign
        fields = ["name", "status", "channel", "audience_size", "task_count", "progress", "success", "roi", "owner",
                  "launched_at"]
        attrs = {"class": "grid"}
        order_by = "-created_at"

    def render_status(self, record):
        return format_html('<span class="status status-{}">{}</span>', record.status, record.get_status_display())

    def _figure(self, record, key):
        return self.figures.get(record.pk, {}).get(key)

    def render_progress(self, record):
        rate = self._figure(record, "done_rate")
        if rate is None:
            return "—"
        return format_html('<span class="bar"><span class="fill audience" data-width="{}"></span></span> {}',
                           f"{rate * 100:.0f}", f"{rate:.0%}")

    def render_success(self, record):
        rate = self._figure(record, "success_rate")
        return "—" if rate is None else f"{rate:.2%}"

    def render_roi(self, record):
        roi = self._figure(record, "roi")
        return "—" if roi is None else f"{roi:.0%}"


class TaskTable(tables.Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "1"},
                                                         "td__input": {"name": "selected"}})
    customer = tables.Column(accessor="customer__name", verbose_name=_("Customer"), order_by="customer__name",
                             linkify=("customers:detail", {"pk": tables.A("customer_id")}))
    assignee = tables.Column(accessor="assignee__username", verbose_name=_("Account manager"),
                             order_by="assignee__username")

    class Meta:
        model = Task
        fields = ["select", "customer", "assignee", "group", "status", "due_date", "contact_result", "response",
                  "amount", "completed_at"]
        attrs = {"class": "grid"}
        order_by = "id"


class QueueTable(tables.Table):
    """The account manager's queue; each row opens the task in the work view (same filter)."""

    customer = tables.Column(accessor="customer__name", verbose_name=_("Customer"), orderable=False)
    campaign = tables.Column(accessor="campaign__name", verbose_name=_("Campaign"), orderable=False)
    assets = tables.Column(accessor="customer__assets", verbose_name=_("Assets"), orderable=False,
                           attrs={"td": {"class": "num"}})
    due_date = tables.Column(orderable=False)
    priority = tables.Column(orderable=False)
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
        return format_html('<a href="{}">{}</a> <span class="muted small">{}</span>', url, value or "—",
                           record.customer.external_id)

    def render_assets(self, value):
        return f"{value:,.0f}"
