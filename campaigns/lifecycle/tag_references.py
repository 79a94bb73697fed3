"""Campaigns not launched yet keep their audience as an expression naming tags by slug: found and
rewritten when a tag is renamed, merged or deleted (registered with customers.tag_references in
CampaignsConfig.ready). A launched campaign's audience is frozen in its tasks and left as it was."""

from django.urls import reverse
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from customers.tag_references import TagReference
from segments.expression import tags_in
from segments.tag_references import rewrite_expressions

EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


def campaigns_naming(slugs: set[str]) -> list[TagReference]:
    found = []
    for campaign in (Campaign.objects.filter(status__in=EDITABLE, expression__isnull=False)
                     .only("pk", "name", "status", "expression").order_by("name")):
        named = tags_in(campaign.expression) & slugs
        if named:
            found.append(TagReference(_("campaign (%(status)s)") % {"status": campaign.get_status_display().lower()},
                                      campaign.name, reverse("campaigns:detail", args=[campaign.pk]),
                                      tuple(sorted(named))))
    return found


def rename_in_campaigns(renames: dict[str, str]) -> int:
    return rewrite_expressions(Campaign.objects.filter(status__in=EDITABLE, expression__isnull=False), renames)
