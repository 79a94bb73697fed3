"""Synthetic demo data that makes every page say something true on first start (seed_demo).

The bank-marketing file gives customers without names, conversions without amounts, and the demo
campaign is freshly launched: the first report read ROI −100 %, the reasons chart was one bar "not
given" and every customer was nameless. What is added here is synthetic, seeded (the same on every
machine) and labelled so wherever it is shown:
- names: a Chinese surname (weighted as common ones are) and a one- or two-character given name;
  the customer's imported attributes say `demo: synthetic name`;
- amounts of conversions: the revenue a term deposit brings the bank (its margin, not its size):
  lognormal, median 450, σ 0.5, rounded to 10 — written only where no amount was logged; the
  imported past campaigns get a cost per contact of 5.00 (a call centre's), so their ROI is a ratio
  of two synthetic but plausible figures rather than revenue over nothing;
- outcomes of the running demo campaign: 40 % of its treatment customers get one, drawn from
  DEMO_OUTCOMES (and reasons from DEMO_REASONS), logged through the same service as the work view,
  each noted "synthetic demo outcome".
"""

from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activity.services import MAX_BATCH_ITEMS, ingest_batch
from campaigns.models import Campaign, Task
from campaigns.workspace.services import log_outcome
from customers.models import Customer

SEED = 20261201
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国文辉鑫宇浩然欣怡子涵雨轩晨阳思远嘉琪梓萱"
DEMO_OUTCOMES = [  # (result as the work view names it: contact result, response), share
    (("reached", "converted"), 0.15), (("reached", "interested"), 0.10), (("reached", "call_back"), 0.08),
    (("reached", "not_interested"), 0.20), (("reached", "declined"), 0.22), (("unreachable", ""), 0.20),
    (("wrong_number", ""), 0.05),
]
DEMO_REASONS = [("price", 0.35), ("competitor", 0.20), ("no_need", 0.20), ("timing", 0.15), ("risk", 0.10)]
DEMO_NOTE = "synthetic demo outcome"


PAST_COST_PER_CONTACT = Decimal("5.00")


def deposit_revenue(count: int, rng: np.random.Generator) -> list[Decimal]:
    sizes = np.round(rng.lognormal(mean=np.log(450), sigma=0.5, size=count), -1)
    return [Decimal(int(max(size, 10))) for size in sizes]


@transaction.atomic
def name_customers() -> int:
    """Give the nameless bank-marketing customers synthetic Chinese names (stable by id)."""
    nameless = list(Customer.objects.filter(name="", external_id__startswith="bank-").only("pk", "extra")
                    .order_by("pk"))
    rng = np.random.default_rng(SEED)
    weights = np.linspace(3, 1, len(SURNAMES))
    surnames = rng.choice(list(SURNAMES), size=len(nameless), p=weights / weights.sum())
    first = rng.choice(list(GIVEN), size=len(nameless))
    second = rng.choice(list(GIVEN), size=len(nameless))
    two = rng.random(len(nameless)) < 0.6
    for index, customer in enumerate(nameless):
        customer.name = surnames[index] + first[index] + (second[index] if two[index] else "")
        customer.extra = {**(customer.extra or {}), "demo": "synthetic name"}
    Customer.objects.bulk_update(nameless, ["name", "extra"], batch_size=2000)
    return len(nameless)


@transaction.atomic
def price_past_conversions(campaign_ids: list[int]) -> int:
    """Synthetic revenue for imported conversions that logged none, and a cost per contact for the
    imported campaigns that have none."""
    Campaign.objects.filter(pk__in=campaign_ids, imported=True, cost_per_contact=0).update(
        cost_per_contact=PAST_COST_PER_CONTACT, objective=_(
            "Imported from past contacts. Demo: the revenue of its conversions and its cost per contact are "
            "synthetic (the file has neither)."))
    converted = list(Task.objects.filter(campaign_id__in=campaign_ids, response=Task.Response.CONVERTED,
                                         amount__isnull=True).only("pk").order_by("pk"))
    for task, amount in zip(converted, deposit_revenue(len(converted), np.random.default_rng(SEED + 1)), strict=True):
        task.amount = amount
        task.note = DEMO_NOTE
    Task.objects.bulk_update(converted, ["amount", "note"], batch_size=2000)
    return len(converted)


def log_demo_outcomes(campaign: Campaign, *, share: float = 0.4) -> int:
    """Outcomes for a share of a running campaign's open treatment tasks, as their account managers
    would log them (one service call each: follow-ups, history and metrics all follow)."""
    if Task.objects.filter(campaign=campaign).exclude(contact_result="").exists():
        return 0  # already has outcomes: a second seed run changes nothing
    tasks = list(Task.objects.filter(campaign=campaign, group=Task.Group.TREATMENT, status=Task.Status.OPEN,
                                     assignee__isnull=False).select_related("assignee").order_by("pk"))
    rng = np.random.default_rng(SEED + 2)
    chosen = [task for task in tasks if rng.random() < share]
    outcomes = [outcome for outcome, _share in DEMO_OUTCOMES]
    picks = rng.choice(len(outcomes), size=len(chosen), p=[share for _outcome, share in DEMO_OUTCOMES])
    reasons = rng.choice([code for code, _share in DEMO_REASONS], size=len(chosen),
                         p=[share for _code, share in DEMO_REASONS])
    amounts = deposit_revenue(len(chosen), rng)
    for index, task in enumerate(chosen):
        contact, response = outcomes[picks[index]]
        values = {"contact_result": contact, "response": response, "note": DEMO_NOTE}
        if response in ("declined", "not_interested"):
            values["failure_reason"] = str(reasons[index])
        if response == "converted":
            values["amount"] = amounts[index]
        if response == "call_back":
            values["next_follow_up"] = task.due_date or campaign.due_date
        log_outcome(task=task, by=task.assignee, version=task.version, **values)
    return len(chosen)


def demo_purchases(campaign: Campaign) -> int:
    """Purchases of the campaign's promoted product since its launch — 9 % of treated customers, 6 % of
    the holdout (seeded) — through the batch engine, so attributed conversions and uplift have data.
    Each is a transaction on channel "demo"; its external id `demo-buy-<task>` keeps a rerun idempotent."""
    product = campaign.products.order_by("code").first()
    if product is None or campaign.launched_at is None:
        return 0
    rng = np.random.default_rng(SEED + 7)
    now = timezone.now()
    span = max((now - campaign.launched_at).total_seconds(), 1.0)
    items = []
    for task_id, external_id, group in (Task.objects.filter(campaign=campaign, follow_up_of__isnull=True)
                                         .order_by("pk").values_list("pk", "customer__external_id", "group")):
        if rng.random() < (0.09 if group == Task.Group.TREATMENT else 0.06):
            at = campaign.launched_at + timedelta(seconds=float(rng.uniform(0, span)))
            items.append({"id": f"demo-buy-{task_id}", "customer": external_id, "product": product.code, "kind": "buy",
                          "amount": str(deposit_revenue(1, rng)[0] * 100), "occurred_at": at.isoformat(),
                          "channel": "demo"})
    accepted = 0
    for start in range(0, len(items), MAX_BATCH_ITEMS):
        accepted += ingest_batch("transactions", items[start:start + MAX_BATCH_ITEMS]).accepted
    return accepted
