"""The campaign list table."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from campaigns.templatetags.campaigns_extras import percent


class CampaignTable(tables.Table):
    """`figures` (campaign id → progress_by_campaign row) is set by the view for the shown page."""

    name = tables.Column(linkify=("campaigns:detail", {"pk": tables.A("pk")}))
    status = tables.Column()
    audience_size = tables.Column(verbose_name=_("Audience"), attrs={"td": {"class": "num"}})
    task_count = tables.Column(verbose_name=_("Customers launched"), attrs={"td": {"class": "num"}})
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
                           f"{rate * 100:.0f}", percent(rate, 0))

    def render_success(self, record):  # formatted as on every other page (campaigns_extras.percent)
        return percent(self._figure(record, "success_rate"))

    def render_roi(self, record):
        return percent(self._figure(record, "roi"), 0)
