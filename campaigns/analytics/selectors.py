"""Reads of campaign figures for pages and the API."""

from campaigns.analytics.contacts import customer_totals
from campaigns.analytics.metrics import campaign_metrics, rates
from campaigns.models import Campaign, Task


def campaign_stats(campaign: Campaign) -> dict:
    """The campaign's figures now (computed live: one campaign is a few indexed GROUP BYs)."""
    return campaign_metrics([campaign.pk])[campaign.pk]


def progress_by_campaign(campaign_ids: list[int]) -> dict[int, dict]:
    """Figures for a page of campaigns in one query (list page: progress and ROI so far)."""
    rows = customer_totals(Task.objects.filter(campaign_id__in=campaign_ids))
    costs = {pk: (fixed, per) for pk, fixed, per in
             Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "cost_fixed", "cost_per_contact")}
    return {row["campaign_id"]: rates(row, cost_fixed=costs[row["campaign_id"]][0],
                                      cost_per_contact=costs[row["campaign_id"]][1]) for row in rows}
