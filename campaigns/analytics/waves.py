"""A recurring template's waves together, and what the Monday review proposes for the template.

Each wave is a campaign and is measured like one (campaigns.analytics.metrics). Together, the
waves' figures add up: customers, contacts, conversions, attempts, revenue and cost are sums over
waves (a customer in two waves counts in each: each wave is another contact), the rates are
recomputed from the sums, and uplift pools every wave's treated and holdout customers into one
Newcombe interval (each wave draws its own holdout, so the pooled arms are comparable).

The proposal for a template, from last week's waves as of the end of the week:
- no wave launched last week → change (the reason says why a wave could not launch);
- fewer than MIN_CONTACTS_TO_JUDGE contacts → continue: too early to judge;
- contact does significantly worse than the holdout → stop;
- it loses money (ROI below 0) → change;
- it converts under STOP_RATE_FACTOR × the average success rate of the week's campaigns → change;
- more than MAX_EXCLUDED_SHARE of the crowd was excluded (contact pressure, consent …) → change;
- otherwise continue.
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.analytics.metrics import fraction, rates, uplift
from campaigns.analytics.reports import MIN_CONTACTS_TO_JUDGE, STOP_RATE_FACTOR

PROPOSALS = {"continue": gettext_lazy("Continue"), "stop": gettext_lazy("Stop"), "change": gettext_lazy("Change")}
MAX_EXCLUDED_SHARE = 0.5
SUMMED = ("customers", "open", "done", "contacted", "attempts", "reached", "interested", "converted")


def pooled(figures: list[dict]) -> dict:
    """The waves' figures (stored or computed metrics, one dict per wave) as one."""
    total = {name: sum(int(wave.get(name) or 0) for wave in figures) for name in SUMMED}
    total["revenue"] = sum((Decimal(str(wave.get("revenue") or 0)) for wave in figures), Decimal("0.00"))
    cost = sum((Decimal(str(wave.get("cost") or 0)) for wave in figures), Decimal("0.00"))
    result = rates(total)
    result["cost"] = cost
    result["roi"] = (round(float((result["revenue"] - cost) / cost), 4) if cost and total["contacted"] else None)
    result["waves"] = len(figures)
    result["audience"] = sum(int(wave.get("audience") or 0) for wave in figures)
    result["excluded_total"] = sum(sum((wave.get("excluded") or {}).values()) for wave in figures)
    result["excluded_share"] = fraction(result["excluded_total"], result["audience"])
    arms = [wave.get("uplift") or {} for wave in figures]
    treated = sum((arm.get("treatment") or {}).get("customers") or 0 for arm in arms)
    control = sum((arm.get("control") or {}).get("customers") or 0 for arm in arms)
    result["uplift"] = uplift(
        treated=treated, treated_converted=sum((arm.get("treatment") or {}).get("converted") or 0 for arm in arms),
        control=control, control_known=sum((arm.get("control") or {}).get("known") or 0 for arm in arms),
        control_converted=sum((arm.get("control") or {}).get("converted") or 0 for arm in arms))
    return result


def rules() -> list[str]:
    """The proposal rules as the review prints them (in the reader's language)."""
    return [
        _("No wave launched last week: change — the template did not run (see why on its page)."),
        _("Fewer than %(n)d contacts in last week's waves: continue — too early to judge.")
        % {"n": MIN_CONTACTS_TO_JUDGE},
        _("Contacting does significantly worse than the holdout: stop."),
        _("Last week's waves lost money (ROI below 0 %): change the crowd, the plan or the channel."),
        _("They converted under %(factor)s× the average success rate: change the crowd, the plan, the channel or the "
          "time window.") % {"factor": STOP_RATE_FACTOR},
        _("More than %(share)s of the crowd was excluded (contact pressure, consent, do-not-contact): change the "
          "crowd or the day.") % {"share": f"{MAX_EXCLUDED_SHARE:.0%}".replace("%", " %")},
        _("Otherwise continue."),
    ]


def propose(week: dict, average_rate: float | None) -> tuple[str, str]:
    """(continue | stop | change, the rule that decided it) for a template's pooled week (pooled())."""
    texts = rules()
    if not week.get("waves"):
        return "change", texts[0]
    if (week.get("contacted") or 0) < MIN_CONTACTS_TO_JUDGE:
        return "continue", texts[1]
    lift = week.get("uplift") or {}
    if lift.get("significant") and (lift.get("value") or 0) < 0:
        return "stop", texts[2]
    if week.get("roi") is not None and week["roi"] < 0:
        return "change", texts[3]
    rate = week.get("success_rate")
    if rate is not None and average_rate and rate < STOP_RATE_FACTOR * average_rate:
        return "change", texts[4]
    if (week.get("excluded_share") or 0) > MAX_EXCLUDED_SHARE:
        return "change", texts[5]
    return "continue", texts[6]
