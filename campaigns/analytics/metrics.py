"""Campaign metrics: success rates, costs, ROI and uplift, aggregated in SQL.

One grouped query per breakdown over any set of campaigns (one campaign after an outcome, or all
of them nightly); Python only shapes the grouped rows. Definitions (also in the reports' notes):
- tasks: treatment (contact) tasks; the holdout (control) is never contacted;
- contacted: a contact attempt logged (any contact result); each costs cost_per_contact;
- reached / interested (interested, call back or converted) / converted: the funnel;
- success rate = converted / contacted; done rate = done / tasks; contact rate = contacted / tasks;
- revenue = Σ amounts logged; cost = fixed budget + cost per contact × contacted;
- ROI = (revenue − cost) / cost (None when nothing has cost anything);
- uplift = conversion rate of the treatment (converted / tasks) − that of the control group, with a
  95 % normal-approximation interval; computed only when control outcomes are known (imported or
  logged), and called significant only when the interval excludes zero.
"""

import math
from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from campaigns.models import Campaign, Task

TREATMENT = Q(group=Task.Group.TREATMENT)
CONTROL = Q(group=Task.Group.CONTROL)
INTERESTED = [Task.Response.INTERESTED, Task.Response.CALL_BACK, Task.Response.CONVERTED]
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))
Z95 = 1.959964


def counts(prefix: Q = Q()) -> dict:
    """Aggregates over the rows selected by `prefix` (treatment rows unless told otherwise)."""
    rows = TREATMENT & prefix
    return {
        "tasks": Count("pk", filter=rows),
        "open": Count("pk", filter=rows & Q(status__in=Task.OPEN_STATUSES)),
        "done": Count("pk", filter=rows & Q(status=Task.Status.DONE)),
        "contacted": Count("pk", filter=rows & ~Q(contact_result="")),
        "reached": Count("pk", filter=rows & Q(contact_result=Task.ContactResult.REACHED)),
        "interested": Count("pk", filter=rows & Q(response__in=INTERESTED)),
        "converted": Count("pk", filter=rows & Q(response=Task.Response.CONVERTED)),
        "revenue": Coalesce(Sum("amount", filter=rows), ZERO),
    }


def fraction(part, whole) -> float | None:
    """A rate as every surface shows it: a fraction with four decimals; None (shown "—") for nothing to divide."""
    return round(part / whole, 4) if whole else None


def success_rate(converted: int, contacted: int) -> float | None:
    """Converted / contacted."""
    return fraction(converted, contacted)


def roi(revenue, cost) -> float | None:
    """(revenue − cost) / cost; None when nothing has cost anything."""
    return round(float((Decimal(revenue) - Decimal(cost)) / Decimal(cost)), 4) if cost else None


def rates(row: dict, *, cost_fixed=None, cost_per_contact=None) -> dict:
    """Add the rates (fractions, 4 decimals) and, with costs, cost / ROI / revenue per contact."""
    row = dict(row)
    tasks, contacted = row.get("tasks") or 0, row.get("contacted") or 0
    row["success_rate"] = success_rate(row["converted"], contacted)
    row["done_rate"] = fraction(row["done"], tasks)
    row["contact_rate"] = fraction(contacted, tasks)
    row["revenue_per_contact"] = round(float(row["revenue"]) / contacted, 2) if contacted else None
    if cost_fixed is not None:
        cost = Decimal(cost_fixed) + Decimal(cost_per_contact) * contacted
        row["cost"] = cost
        row["roi"] = roi(row["revenue"], cost)
    return row


def uplift(*, treated: int, treated_converted: int, control: int, control_converted: int, known: bool) -> dict | None:
    """Difference in conversion rate, treatment minus control, with its 95 % interval."""
    if not known or not treated or not control:
        return None
    p1, p2 = treated_converted / treated, control_converted / control
    error = math.sqrt(p1 * (1 - p1) / treated + p2 * (1 - p2) / control)
    difference = p1 - p2
    low, high = difference - Z95 * error, difference + Z95 * error
    return {"treatment_rate": round(p1, 4), "control_rate": round(p2, 4), "uplift": round(difference, 4),
            "ci_low": round(low, 4), "ci_high": round(high, 4), "significant": low > 0 or high < 0}


def campaign_metrics(campaign_ids: list[int] | None = None) -> dict[int, dict]:
    """Every metric and breakdown for the given campaigns (all when None), keyed by campaign id."""
    campaigns = Campaign.objects.all() if campaign_ids is None else Campaign.objects.filter(pk__in=campaign_ids)
    info = {row["pk"]: row for row in campaigns.values("pk", "status", "audience_size", "excluded", "holdout_size",
                                                        "cost_fixed", "cost_per_contact", "channel")}
    tasks = Task.objects.filter(campaign_id__in=list(info)) if campaign_ids is not None else Task.objects.all()
    duration = ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField())
    totals = {row["campaign_id"]: row for row in tasks.values("campaign_id").annotate(
        **counts(), control=Count("pk", filter=CONTROL),
        control_converted=Count("pk", filter=CONTROL & Q(response=Task.Response.CONVERTED)),
        control_known=Count("pk", filter=CONTROL & Q(completed_at__isnull=False)),
        time_to_outcome=Avg(duration, filter=TREATMENT & Q(completed_at__isnull=False)),
    ).order_by()}
    treatment = tasks.filter(TREATMENT)
    breakdowns = {
        "by_channel": _grouped(treatment, "channel", "channel"),
        "by_account_manager": _grouped(treatment, "assignee__username", "account_manager"),
        "by_branch": _grouped(treatment, "customer__branch__code", "branch"),
    }
    reasons = defaultdict(list)
    for row in (treatment.filter(response__in=[Task.Response.DECLINED, Task.Response.NOT_INTERESTED])
                .values("campaign_id", "failure_reason").annotate(count=Count("pk")).order_by("-count")):
        reasons[row["campaign_id"]].append({"reason": row["failure_reason"], "count": row["count"]})
    days = defaultdict(list)
    for row in (treatment.filter(completed_at__isnull=False).annotate(day=TruncDate("completed_at"))
                .values("campaign_id", "day").annotate(done=Count("pk"), converted=Count(
                    "pk", filter=Q(response=Task.Response.CONVERTED)), revenue=Coalesce(Sum("amount"), ZERO))
                .order_by("day")):
        days[row["campaign_id"]].append({"day": row["day"].isoformat(), "done": row["done"],
                                         "converted": row["converted"], "revenue": row["revenue"]})
    result = {}
    for pk, campaign in info.items():
        total = totals.get(pk) or {key: 0 for key in ("tasks", "open", "done", "contacted", "reached", "interested",
                                                     "converted", "control", "control_converted", "control_known")}
        total.setdefault("revenue", Decimal(0))
        seconds = total.get("time_to_outcome")
        figures = rates({key: total[key] for key in ("tasks", "open", "done", "contacted", "reached", "interested",
                                                    "converted", "revenue")},
                        cost_fixed=campaign["cost_fixed"], cost_per_contact=campaign["cost_per_contact"])
        result[pk] = {
            "campaign": pk, "status": campaign["status"], "audience": campaign["audience_size"] or 0,
            "excluded": campaign["excluded"] or {}, "holdout": total["control"],
            **figures,
            "hours_to_outcome": round(seconds.total_seconds() / 3600, 1) if seconds is not None else None,
            "uplift": uplift(treated=total["tasks"], treated_converted=total["converted"], control=total["control"],
                             control_converted=total["control_converted"], known=bool(total["control_known"])),
            **{name: rows.get(pk, []) for name, rows in breakdowns.items()},
            "by_failure_reason": reasons.get(pk, []), "by_day": days.get(pk, []),
        }
    return result


def _grouped(tasks, field: str, label: str) -> dict[int, list[dict]]:
    grouped = defaultdict(list)
    for row in tasks.values("campaign_id", field).annotate(**counts()).order_by(field):
        value = row.pop(field)
        campaign_id = row.pop("campaign_id")
        grouped[campaign_id].append({label: value or "", **rates(row)})
    return grouped


def jsonable(value):
    """Decimals and dates as strings, recursively: what the stored metrics and the API carry."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return value
