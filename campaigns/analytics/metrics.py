"""Campaign metrics: success rates, costs, ROI and uplift — every figure per launched customer.

The definitions, written once (docs/metrics.md repeats them for readers of the reports):
- customers ("tasks" in the API, for compatibility): customers launched in the treatment group.
  A follow-up (call back later) is another attempt on the same customer, never another customer;
- contacted / reached / interested (interested, call back or converted) / converted: customers
  with at least one such attempt logged — the funnel, each stage a subset of the one before;
- attempts: contact attempts logged; each costs the campaign's cost per contact;
- done: contacted customers whose latest attempt is finished; open: whose latest attempt is open;
- success rate = converted / contacted; done rate = done / customers; contact rate = contacted / customers;
- revenue = every amount logged; cost = fixed budget + cost per contact × attempts;
- ROI = (revenue − cost) / cost, once a customer has been contacted (None before, and when nothing has
  cost anything: a budget with no contact yet is no result, not −100 %); revenue per contact = revenue / contacted;
- by account manager: each customer counts for the manager holding the customer's latest attempt;
- uplift = treatment conversion (converted / launched treatment customers) − holdout conversion
  (converted / holdout customers whose outcome is known — imported or logged; unknown ones are left
  out, never counted as non-converters), with the Newcombe hybrid score 95 % interval (Wilson
  intervals of each rate combined). Below MIN_UPLIFT_CUSTOMERS in either group it says "not enough
  data"; it is significant only when the interval excludes zero. A campaign that promotes products
  measures both arms from purchases instead (campaigns.analytics.attribution): treatment rate =
  treated customers who bought a promoted product within the attribution window / treated customers,
  holdout rate the same over every holdout customer (a purchase or its absence is known for each);
  `uplift.source` says which ("transactions" or "logged").
Rates are fractions with four decimals (0.1170); money is exact (Decimal, sent as a string).
"""

import math
from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.functional import Promise

from campaigns.analytics.attribution import attributed_conversions
from campaigns.analytics.contacts import CAMPAIGN, CENTS, FIGURES, MANAGER, Key, cents, channel_key, customer_counts
from campaigns.models import Campaign, Task

TREATMENT = Q(group=Task.Group.TREATMENT)
CONTROL = Q(group=Task.Group.CONTROL)
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))
Z95 = 1.959964
MIN_UPLIFT_CUSTOMERS = 30  # per group: below it an interval says little and is not shown as a result
UPLIFT_METHOD = "newcombe-hybrid-score"
EMPTY = {name: 0 for name in FIGURES} | {"revenue": Decimal("0.00")}


def fraction(part, whole) -> float | None:
    """A rate as every surface shows it: a fraction with four decimals; None (shown "—") for nothing to divide."""
    return round(part / whole, 4) if whole else None


def success_rate(converted: int, contacted: int) -> float | None:
    """Converted / contacted (customers)."""
    return fraction(converted, contacted)


def roi(revenue, cost, *, contacted: int) -> float | None:
    """(revenue − cost) / cost; None before anyone was contacted or when nothing has cost anything."""
    if not contacted or not cost:
        return None
    return round(float((Decimal(revenue) - Decimal(cost)) / Decimal(cost)), 4)


def estimated_value(stats: dict, value_per_conversion) -> dict | None:
    """What the conversions would be worth at the campaign's expected value per conversion, and the
    ROI that implies — an estimate, shown as one beside the logged revenue (None without a value)."""
    if value_per_conversion is None:
        return None
    value = (Decimal(value_per_conversion) * (stats.get("converted") or 0)).quantize(CENTS)
    return {"value": value, "roi": roi(value, stats.get("cost") or 0, contacted=stats.get("contacted") or 0)}


def holdout_share(holdout: int, treated: int) -> float | None:
    """The share of the launched audience actually kept out (beside the holdout % asked for)."""
    return fraction(holdout, holdout + treated)


def contact_cost(cost_per_contact, attempts: int) -> Decimal:
    return (Decimal(cost_per_contact or 0) * attempts).quantize(CENTS)


def rates(row: dict, *, cost_fixed=None, cost_per_contact=None) -> dict:
    """A customer-count row with its rates (fractions, 4 decimals) and, with costs, cost and ROI.

    `tasks` is the launched customers (the name the API has always used)."""
    row = dict(row)
    customers, contacted = row.get("customers") or 0, row.get("contacted") or 0
    row["tasks"] = customers
    row["success_rate"] = success_rate(row["converted"], contacted)
    row["done_rate"] = fraction(row.get("done") or 0, customers)
    row["contact_rate"] = fraction(contacted, customers)
    row["revenue_per_contact"] = (row["revenue"] / contacted).quantize(CENTS) if contacted else None
    if cost_fixed is not None:
        cost = Decimal(cost_fixed) + contact_cost(cost_per_contact, row.get("attempts") or 0)
        row["cost"] = cost
        row["roi"] = roi(row["revenue"], cost, contacted=contacted)
    return row


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10, 1998) for p1 − p2."""
    p1, p2 = x1 / n1, x2 / n2
    low1, high1 = wilson(x1, n1, z)
    low2, high2 = wilson(x2, n2, z)
    difference = p1 - p2
    return (difference - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2),
            difference + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2))


def uplift(*, treated: int, treated_converted: int, control_known: int, control_converted: int,
           control: int) -> dict:
    """Treatment minus holdout conversion with its Newcombe 95 % interval, or "not enough data"."""
    enough = treated >= MIN_UPLIFT_CUSTOMERS and control_known >= MIN_UPLIFT_CUSTOMERS
    result = {"value": None, "ci_low": None, "ci_high": None, "significant": False, "method": UPLIFT_METHOD,
              "enough_data": enough, "minimum": MIN_UPLIFT_CUSTOMERS,
              "treatment": {"customers": treated, "converted": treated_converted,
                            "rate": fraction(treated_converted, treated)},
              "control": {"customers": control, "known": control_known, "converted": control_converted,
                          "rate": fraction(control_converted, control_known)}}
    if enough:
        low, high = newcombe_interval(treated_converted, treated, control_converted, control_known)
        result.update(value=round(treated_converted / treated - control_converted / control_known, 4),
                      ci_low=round(low, 4), ci_high=round(high, 4), significant=low > 0 or high < 0)
    return result


def campaign_metrics(campaign_ids: list[int] | None = None, *, as_of=None) -> dict[int, dict]:
    """Every metric and breakdown for the given campaigns (all when None), keyed by campaign id;
    with `as_of`, as they stood at that moment."""
    campaigns = Campaign.objects.all() if campaign_ids is None else Campaign.objects.filter(pk__in=campaign_ids)
    info = {row["pk"]: row for row in campaigns.values("pk", "status", "audience_size", "excluded", "holdout_size",
                                                        "cost_fixed", "cost_per_contact", "channel")}
    tasks = Task.objects.filter(campaign_id__in=list(info)) if campaign_ids is not None else Task.objects.all()
    counted = customer_counts(tasks, {"total": (CAMPAIGN,), "by_channel": (CAMPAIGN, "channel"),
                                      "by_account_manager": (CAMPAIGN, MANAGER), "by_branch": (CAMPAIGN, "branch")},
                              keys=(channel_key(), Key("branch", F("customer__branch__code"))), as_of=as_of)
    totals = {row["campaign_id"]: row for row in counted.pop("total")}
    control = _control(tasks, as_of)
    breakdowns = {name: _grouped(rows, label) for (name, rows), label in zip(
        counted.items(), ("channel", "account_manager", "branch"), strict=True)}
    logged = tasks.filter(TREATMENT, completed_at__isnull=False)
    if as_of is not None:
        logged = logged.filter(completed_at__lt=as_of)
    duration = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
    hours = dict(logged.filter(follow_up_of__isnull=True).values("campaign_id")
                 .annotate(mean=Avg(duration)).values_list("campaign_id", "mean").order_by())
    reasons = defaultdict(list)
    for row in (logged.filter(response__in=[Task.Response.DECLINED, Task.Response.NOT_INTERESTED])
                .values("campaign_id", "failure_reason").annotate(count=Count("pk")).order_by("-count")):
        reasons[row["campaign_id"]].append({"reason": row["failure_reason"], "count": row["count"]})
    days = defaultdict(list)
    for row in (logged.annotate(day=TruncDate("completed_at"))
                .values("campaign_id", "day").annotate(done=Count("pk"), converted=Count(
                    "pk", filter=Q(response=Task.Response.CONVERTED)), revenue=Coalesce(Sum("amount"), ZERO))
                .order_by("day")):
        days[row["campaign_id"]].append({"day": row["day"].isoformat(), "outcomes": row["done"],
                                         "converted": row["converted"], "revenue": cents(row["revenue"])})
    attributed = attributed_conversions(list(info), as_of=as_of)
    result = {}
    for pk, campaign in info.items():
        total = totals.get(pk) or EMPTY
        held = control.get(pk) or {"control": 0, "known": 0, "converted": 0}
        figures = rates({name: total[name] for name in FIGURES}, cost_fixed=campaign["cost_fixed"],
                        cost_per_contact=campaign["cost_per_contact"])
        mean = hours.get(pk)
        result[pk] = {
            "campaign": pk, "status": campaign["status"], "audience": campaign["audience_size"] or 0,
            "excluded": campaign["excluded"] or {}, "holdout": held["control"], "holdout_known": held["known"],
            **figures,
            "hours_to_outcome": round(mean.total_seconds() / 3600, 1) if mean is not None else None,
            "attributed": attributed.get(pk),
            "uplift": _uplift(figures, held, attributed.get(pk)),
            **{name: rows.get(pk, []) for name, rows in breakdowns.items()},
            "by_failure_reason": reasons.get(pk, []), "by_day": days.get(pk, []),
        }
    return result


def _uplift(figures: dict, held: dict, attributed: dict | None) -> dict:
    """From attributed purchases when the campaign promotes products (both arms measured alike, every
    holdout customer's outcome known); else from logged outcomes (holdout: known outcomes only)."""
    if attributed is not None:
        treated, control = attributed["treatment"], attributed["control"]
        return {**uplift(treated=treated["customers"], treated_converted=treated["converted"],
                         control=control["customers"], control_known=control["customers"],
                         control_converted=control["converted"]), "source": "transactions"}
    return {**uplift(treated=figures["customers"], treated_converted=figures["converted"], control=held["control"],
                     control_known=held["known"], control_converted=held["converted"]), "source": "logged"}


def _control(tasks, as_of) -> dict[int, dict]:
    """Holdout customers, those whose outcome is known (imported or logged) and their conversions."""
    rows = tasks.filter(CONTROL)
    known = Q(completed_at__isnull=False)
    if as_of is not None:
        rows, known = rows.filter(created_at__lt=as_of), known & Q(completed_at__lt=as_of)
    return {row.pop("campaign_id"): row for row in rows.values("campaign_id").annotate(
        control=Count("customer_id", distinct=True), known=Count("customer_id", filter=known, distinct=True),
        converted=Count("customer_id", filter=known & Q(response=Task.Response.CONVERTED), distinct=True),
    ).order_by()}


def _grouped(rows: list[dict], label: str) -> dict[int, list[dict]]:
    grouped = defaultdict(list)
    for row in sorted(rows, key=lambda row: row[label] or ""):
        campaign_id = row.pop("campaign_id")
        grouped[campaign_id].append({label: row.pop(label) or "", **rates(row)})
    return grouped


def jsonable(value):
    """Money as exact decimal strings ("1234.50"), lazy labels as text, recursively: what the stored
    metrics and every JSON answer carry (never a float: 99,999,999,999,999.99 must come back as sent)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value.quantize(CENTS))
    if isinstance(value, Promise):
        return str(value)
    return value
