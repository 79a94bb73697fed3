"""Result tags: each customer's latest outcome in a campaign written back as a tag for the next segment."""

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.models import Campaign, ResultTag, Task
from customers import services as customer_services
from customers.models import Tag


# The result tag a customer's latest treatment outcome earns (None: no tag, e.g. not contacted).
def result_of(contact_result: str, response: str) -> str | None:
    if response == Task.Response.CONVERTED:
        return "converted"
    if response in (Task.Response.INTERESTED, Task.Response.CALL_BACK):
        return "interested"
    if response in (Task.Response.DECLINED, Task.Response.NOT_INTERESTED):
        return "declined"
    if contact_result in (Task.ContactResult.UNREACHABLE, Task.ContactResult.WRONG_NUMBER,
                          Task.ContactResult.REFUSED):
        return "unreachable"
    return None


RESULTS = tuple(ResultTag.Result.values)


def result_tag(campaign: Campaign, result: str) -> Tag:
    """The campaign's own tag for one result, created on first use with a slug no tag has.

    The slug is `<campaign slug>-<result>` when free, else numbered (`-2`, `-3`, …); it is only a
    name: ownership is the ResultTag row, so renaming the tag later changes nothing here."""
    owned = ResultTag.objects.filter(campaign=campaign, result=result).select_related("tag").first()
    if owned is not None:
        return owned.tag
    suffix = f"-{result}"
    base = (customer_services.tag_slug(campaign.slug)[: 80 - len(suffix) - 4].rstrip("-") or "campaign") + suffix
    slug, number = base, 2
    while Tag.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    tag = customer_services.create_tag(
        slug=slug, name=_("%(campaign)s: %(result)s") % {"campaign": campaign.name[:100],
                                                         "result": ResultTag.Result(result).label},
        category=Tag.Category.CAMPAIGN_RESULT, source=Tag.Source.CAMPAIGN)
    ResultTag.objects.create(campaign=campaign, result=result, tag=tag)
    return tag


@transaction.atomic
def tag_results(*, campaign: Campaign) -> dict[str, int]:
    """Give customers the campaign's converted / interested / declined / unreachable tags from their
    latest outcome in it (control customers get none); run again, it corrects itself. Only the
    campaign's own result tags are ever written (issue 20: `gold-converted`, a manual tag, lost its
    customers to a campaign slugged `gold`)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)  # one run per campaign at a time
    outcomes = (Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT).exclude(contact_result="")
                .order_by("customer_id", "-completed_at", "-id")
                .values_list("customer_id", "contact_result", "response"))
    latest: dict[int, str | None] = {}
    for customer_id, contact_result, response in outcomes.iterator(chunk_size=20_000):
        if customer_id not in latest:  # rows come newest first per customer
            latest[customer_id] = result_of(contact_result, response)
    counts = {}
    for result in RESULTS:
        tag = result_tag(campaign, result)
        earners = {customer_id for customer_id, earned in latest.items() if earned == result}
        customer_services.set_tag_holders(tag=tag, customer_ids=earners, source=Tag.Source.CAMPAIGN)
        counts[tag.slug] = len(earners)
    return counts
