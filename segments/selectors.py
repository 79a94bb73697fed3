"""Reads about audiences: who is in them, and how they compare with all customers."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from pyroaring import BitMap

from accounts.models import Branch, User
from customers.models import Customer, LifecycleStage
from scores.models import Consultation, IntentGroup

from . import engine
from .models import Segment

ASSET_TIERS = [
    (_("under 100k"), None, 100_000), (_("100k–500k"), 100_000, 500_000), (_("500k–1M"), 500_000, 1_000_000),
    (_("1M–5M"), 1_000_000, 5_000_000), (_("5M and over"), 5_000_000, None),
]


def segments_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by").defer("snapshot")


def members_page(bitmap: BitMap, *, offset: int, limit: int, with_tags: bool = False) -> list[Customer]:
    """One page of an audience's customers, in id order: one query (three with their tags — the API
    serializes them, and fetching them per customer was 1,256 queries for a page of 50)."""
    ids = [bitmap[index] for index in range(offset, min(offset + limit, len(bitmap)))]
    customers = Customer.objects.select_related("branch", "owner")
    if with_tags:
        customers = customers.prefetch_related("tag_links__tag")
    found = customers.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def audience_profile(bitmap: BitMap) -> dict:
    """The audience beside all customers, by branch, lifecycle stage, risk level, asset tier and owner."""
    index = engine.current_index()
    universe = index.universe
    audience_size, total = len(bitmap), len(universe)

    def rows(values: dict, labels: dict, keep_order: bool = False) -> list[dict]:
        result = []
        for key, members in values.items():
            in_audience = bitmap.intersection_cardinality(members)
            everyone = len(members)
            if not everyone:
                continue
            result.append({
                "key": key, "label": labels.get(key, key if key is not None else _("none")),
                "audience": in_audience, "all": everyone,
                "audience_share": in_audience / audience_size if audience_size else None,
                "all_share": everyone / total if total else None,
            })
        return result if keep_order else sorted(result, key=lambda row: (-row["audience"], str(row["label"])))

    branches = dict(Branch.objects.values_list("id", "code"))
    owners = dict(User.objects.filter(pk__in=[k for k in index.categorical["owner"] if k]).values_list("id", "username"))
    tiers = {str(label): index.assets_between(low, high) for label, low, high in ASSET_TIERS}
    return {
        "audience": audience_size, "total": total,
        "branch": rows(index.categorical["branch"], branches),
        "lifecycle_stage": rows(index.categorical["lifecycle_stage"], dict(LifecycleStage.choices)),
        "risk_level": rows(index.categorical["risk_level"], {}),
        "owner": rows(index.categorical["owner"], owners),
        "asset_tier": rows(tiers, {}, keep_order=True),
        # Scores of the published run (empty before the first run).
        "lifecycle": rows(_in_order(index.scores.choices.get("lifecycle", {}), LifecycleStage.values, universe),
                          dict(LifecycleStage.choices), keep_order=True),
        "intent_group": rows(_in_order(index.scores.choices.get("intent_group", {}), IntentGroup.values, universe),
                             dict(IntentGroup.choices), keep_order=True),
        "consultation": rows(_in_order(index.scores.choices.get("consultation", {}), Consultation.values, universe),
                             dict(Consultation.choices)),
        "churn_risk": rows(_bands(index.scores.numeric.get("churn_risk"), universe), {}, keep_order=True),
        "risk_preference": rows(_bands(index.scores.numeric.get("risk_preference"), universe), {}, keep_order=True),
        **{name: rows(_levels(index.scores.numeric.get(name), universe), {}, keep_order=True)
           for name in ("rfm_r", "rfm_f", "rfm_m")},
    }


def _levels(column, universe: BitMap) -> dict:
    """Customers per score 1–5."""
    if column is None:
        return {}
    return {level: column.range(level, True, level, True) & universe for level in range(1, 6)}


def _in_order(values: dict, order, universe: BitMap) -> dict:
    """Score bitmaps in the choices' order, without customers deleted since the run."""
    return {key: values[key] & universe for key in order if key in values}


def _bands(column, universe: BitMap, steps: int = 5) -> dict:
    """Customers per fifth of a 0–1 score (the last band includes 1)."""
    if column is None:
        return {}
    edges = [step / steps for step in range(steps + 1)]
    return {f"{low:.1f}–{high:.1f}": column.range(low, True, high, high == 1.0) & universe
            for low, high in zip(edges, edges[1:], strict=False)}


def moved_sharply(*, days: int = 7, share: float = 0.2, least: int = 50) -> list[dict]:
    """Segments whose latest recorded size differs from the one `days` or more earlier by at least
    `share` and `least` customers — an audience that moved sharply, for the home page."""
    moved = []
    for segment in Segment.objects.filter(kind=Segment.Kind.DYNAMIC).only("pk", "name"):
        counts = list(segment.counts.order_by("-day")[:days + 1])
        if len(counts) < 2:
            continue
        latest = counts[0]
        earlier = next((row for row in counts[1:] if (latest.day - row.day).days >= days), counts[-1])
        change = latest.count - earlier.count
        if abs(change) >= least and abs(change) >= share * max(earlier.count, 1):
            moved.append({"segment": segment, "from": earlier.count, "to": latest.count, "since": earlier.day})
    return moved
