"""Attributed conversions: purchases of a campaign's promoted products within its attribution window.

A customer of the audience — treated or holdout alike — who buys one of the products promoted
between the launch and `attribution_days` later is a conversion of the campaign, with the amounts
bought as its revenue (source "transaction"). Both arms are measured the same way, from the
transaction feed, so their rates compare: this is what makes holdout uplift measurable at all (no
account manager ever logs an outcome for a holdout customer). Logged outcomes (source "logged")
stay beside it: `converted_any` counts a treated customer once whether a purchase, a logged
conversion or both say so.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from activity.models import Transaction, TransactionKind
from campaigns.models import Campaign, Task


def attributed_conversions(campaign_ids: list[int], *, as_of=None) -> dict[int, dict]:
    """Per launched campaign that promotes products: each arm's customers, converted, revenue, rate."""
    now = timezone.now()
    result = {}
    campaigns = (Campaign.objects.filter(pk__in=campaign_ids, launched_at__isnull=False)
                 .prefetch_related("products"))
    for campaign in campaigns:
        codes = {product.pk: product.code for product in campaign.products.all()}
        if not codes:
            continue
        start = campaign.launched_at
        window_end = start + timedelta(days=campaign.attribution_days)
        end = min(window_end, as_of) if as_of is not None else window_end
        tasks = Task.objects.filter(campaign=campaign)
        if as_of is not None:
            tasks = tasks.filter(created_at__lt=as_of)
        buys = Transaction.objects.filter(
            kind=TransactionKind.BUY, product_id__in=list(codes), occurred_at__gte=start, occurred_at__lt=end,
            # the day columns let the (product, kind, day) index narrow the scan first
            occurred_on__gte=timezone.localdate(start), occurred_on__lte=timezone.localdate(end))
        arms = {}
        for name, group in (("treatment", Task.Group.TREATMENT), ("control", Task.Group.CONTROL)):
            members = tasks.filter(group=group).values("customer_id")
            customers = members.distinct().count()
            bought = buys.filter(customer_id__in=members).aggregate(
                converted=Count("customer_id", distinct=True), revenue=Sum("amount"))
            arms[name] = {"customers": customers, "converted": bought["converted"],
                          "revenue": bought["revenue"] or Decimal("0.00"),
                          "rate": round(bought["converted"] / customers, 4) if customers else None}
        treated = tasks.filter(group=Task.Group.TREATMENT)
        logged = Q(response=Task.Response.CONVERTED)
        if as_of is not None:
            logged &= Q(completed_at__lt=as_of)
        purchased = Q(customer_id__in=buys.filter(customer_id__in=treated.values("customer_id")).values("customer_id"))
        either = treated.filter(logged | purchased).values("customer_id").distinct().count()
        result[campaign.pk] = {
            **arms, "products": sorted(codes.values()), "window_days": campaign.attribution_days,
            "window_ends": window_end.isoformat(), "window_open": now < window_end,
            "converted_any": either, "logged_only": either - arms["treatment"]["converted"],
        }
    return result


def campaigns_attributing(product_ids: list[int], first, last) -> list[int]:
    """Campaigns promoting any of these products whose window may hold purchases made first…last."""
    candidates = (Campaign.objects.filter(products__in=product_ids, launched_at__isnull=False, launched_at__lte=last)
                  .distinct().values_list("pk", "launched_at", "attribution_days"))
    return [pk for pk, launched, days in candidates if launched + timedelta(days=days) >= first]
