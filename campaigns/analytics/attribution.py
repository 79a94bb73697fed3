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

import pandas as pd
from django.utils import timezone

from activity.models import Transaction, TransactionKind
from campaigns.models import Campaign, Task


def attributed_conversions(campaign_ids: list[int], *, as_of=None) -> dict[int, dict]:
    """Per launched campaign that promotes products: each arm's customers, converted, revenue, rate.

    Three indexed reads per campaign — its customers and groups, the purchases of its products in
    the window, its logged conversions — joined in pandas: the same answer as a join in SQL, which
    took 15 s for a 529k-customer campaign over 20M transactions (a semi-join per arm and figure)."""
    now = timezone.now()
    result = {}
    campaigns = (Campaign.objects.filter(pk__in=campaign_ids, launched_at__isnull=False)
                 .prefetch_related("products"))
    for campaign in campaigns:
        codes = {product.pk: product.code for product in campaign.products.all()}
        if not codes:
            continue
        window_end = campaign.launched_at + timedelta(days=campaign.attribution_days)
        figures = _figures(campaign, list(codes), window_end, as_of)
        result[campaign.pk] = {
            **figures, "products": sorted(codes.values()), "window_days": campaign.attribution_days,
            "window_ends": window_end.isoformat(), "window_open": now < window_end,
        }
    return result


def _figures(campaign: Campaign, product_ids: list[int], window_end, as_of) -> dict:
    start = campaign.launched_at
    end = min(window_end, as_of) if as_of is not None else window_end
    tasks = Task.objects.filter(campaign=campaign)
    if as_of is not None:
        tasks = tasks.filter(created_at__lt=as_of)
    # A customer is in one group of a campaign; follow-ups repeat the row, so keep one per customer.
    groups = pd.DataFrame(list(tasks.values_list("customer_id", "group").distinct()),
                          columns=["customer_id", "group"]).drop_duplicates("customer_id").set_index("customer_id")["group"]
    buys = pd.DataFrame(list(Transaction.objects.filter(
        kind=TransactionKind.BUY, product_id__in=product_ids, occurred_at__gte=start, occurred_at__lt=end,
        # the day columns let the (product, kind, day) index narrow the scan first
        occurred_on__gte=timezone.localdate(start), occurred_on__lte=timezone.localdate(end),
        customer_id__in=tasks.values("customer_id"),
    ).values_list("customer_id", "amount")), columns=["customer_id", "amount"])
    buys["group"] = buys["customer_id"].map(groups)
    logged = tasks.filter(group=Task.Group.TREATMENT, response=Task.Response.CONVERTED)
    if as_of is not None:
        logged = logged.filter(completed_at__lt=as_of)
    logged_ids = set(logged.values_list("customer_id", flat=True).distinct())
    arms = {}
    for name, group in (("treatment", Task.Group.TREATMENT), ("control", Task.Group.CONTROL)):
        customers = int((groups == group).sum())
        bought = buys[buys["group"] == group]
        converted = int(bought["customer_id"].nunique())
        arms[name] = {"customers": customers, "converted": converted,
                      "revenue": sum(bought["amount"], Decimal("0.00")),  # Decimals: exact to the cent
                      "rate": round(converted / customers, 4) if customers else None}
    purchased = set(buys.loc[buys["group"] == Task.Group.TREATMENT, "customer_id"])
    either = len(purchased | logged_ids)
    return {**arms, "converted_any": either, "logged_only": either - arms["treatment"]["converted"]}


def campaigns_attributing(product_ids: list[int], first, last) -> list[int]:
    """Campaigns promoting any of these products whose window may hold purchases made first…last."""
    candidates = (Campaign.objects.filter(products__in=product_ids, launched_at__isnull=False, launched_at__lte=last)
                  .distinct().values_list("pk", "launched_at", "attribution_days"))
    return [pk for pk, launched, days in candidates if launched + timedelta(days=days) >= first]
