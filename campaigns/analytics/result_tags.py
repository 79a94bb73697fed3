"""Result tags: each customer's latest outcome in a campaign written back as a tag for the next segment."""

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Task
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


RESULTS = ("converted", "interested", "declined", "unreachable")


def result_tag_slug(campaign: Campaign, result: str) -> str:
    return f"{campaign.slug}-{result}"[:80]


@transaction.atomic
def tag_results(*, campaign: Campaign) -> dict[str, int]:
    """Give customers `<slug>-converted`, `-interested`, `-declined`, `-unreachable` from their latest
    outcome in this campaign (control customers get none); run again, it corrects itself."""
    outcomes = (Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT).exclude(contact_result="")
                .order_by("customer_id", "-completed_at", "-id")
                .values_list("customer_id", "contact_result", "response"))
    latest: dict[int, str | None] = {}
    for customer_id, contact_result, response in outcomes.iterator(chunk_size=20_000):
        if customer_id not in latest:  # rows come newest first per customer
            latest[customer_id] = result_of(contact_result, response)
    counts = {}
    for result in RESULTS:
        tag = customer_services.ensure_tag(
            slug=result_tag_slug(campaign, result),
            name=_("%(campaign)s: %(result)s") % {"campaign": campaign.name, "result": result},
            category=Tag.Category.CAMPAIGN_RESULT, source=Tag.Source.CAMPAIGN)
        earners = {customer_id for customer_id, earned in latest.items() if earned == result}
        customer_services.set_tag_holders(tag=tag, customer_ids=earners, source=Tag.Source.CAMPAIGN)
        counts[tag.slug] = len(earners)
    return counts
