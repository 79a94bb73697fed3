"""Campaigns not launched yet keep their audience as an expression naming tags by slug: found and
rewritten when a tag is renamed, merged or deleted (registered with customers.tag_references in
CampaignsConfig.ready). A launched campaign's audience is frozen in its tasks and left as it was."""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from customers.tag_references import TagReference
from segments.expression import rename_tags, tags_in, to_text

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


@transaction.atomic
def rename_in_campaigns(renames: dict[str, str]) -> int:
    rewritten = 0
    for campaign in (Campaign.objects.select_for_update().filter(status__in=EDITABLE, expression__isnull=False)
                     .only("pk", "expression", "text")):
        if tags_in(campaign.expression) & set(renames):
            campaign.expression = rename_tags(campaign.expression, renames)
            campaign.text = to_text(campaign.expression)
            campaign.save(update_fields=["expression", "text", "updated_at"])
            rewritten += 1
    return rewritten
