"""Segment use cases: preview an expression, save a segment, take a snapshot, compare crowds."""

from itertools import product

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from pyroaring import BitMap

from customers.models import Customer

from . import engine
from .compiler import read_expression, resolve
from .expression import ExpressionError, from_json, to_text
from .models import Segment, SegmentCount

SAMPLE_FIELDS = ("id", "external_id", "name", "branch__code", "owner__username", "assets", "lifecycle_stage")


def audience_for(*, expression=None, text: str | None = None, previous_ok: bool = False) -> tuple[dict, engine.Audience]:
    """Read, check, resolve and evaluate an expression in either form (`previous_ok`: see
    engine.current_index; for previews only)."""
    tree, positions = read_expression(expression=expression, text=text)
    return tree, engine.evaluate(resolve(tree, positions), previous_ok=previous_ok)


def preview(*, expression=None, text: str | None = None, sample_size: int = 10) -> dict:
    """Count, share of all customers, a sample, and the expression in both forms. While a large change
    is being indexed the count is the previous index's, and says so (`catching_up`, `as_of`)."""
    tree, audience = audience_for(expression=expression, text=text, previous_ok=True)
    total = audience.total  # from the same index state as the count, with no second version check
    sample_ids = audience.sample(sample_size)
    rows = {row["id"]: row for row in Customer.objects.filter(pk__in=sample_ids).values(*SAMPLE_FIELDS)}
    return {
        "count": audience.count, "took_ms": round(audience.took_ms, 3), "total": total,
        "share": round(audience.count / total, 6) if total else None,
        "expression": tree, "text": to_text(tree),
        "sample": [_sample_row(rows[pk]) for pk in sample_ids if pk in rows],
        "catching_up": audience.catching_up, "as_of": audience.as_of,
    }


def _sample_row(row: dict) -> dict:
    return {"id": row["id"], "external_id": row["external_id"], "name": row["name"], "branch": row["branch__code"],
            "owner": row["owner__username"], "assets": str(row["assets"]), "lifecycle_stage": row["lifecycle_stage"]}


@transaction.atomic
def save_segment(*, name: str, by=None, expression=None, text: str | None = None, description: str = "",
                 kind: str = Segment.Kind.DYNAMIC, segment: Segment | None = None) -> Segment:
    """Create or update a segment; a snapshot segment freezes its members now. A segment picked by a
    model (a lookalike) keeps its members: only its name and description change."""
    if segment is not None and segment.origin:
        return _rename_picked(segment, name=name, description=description, kind=kind, expression=expression,
                              text=text)
    tree, audience = audience_for(expression=expression, text=text)
    segment = segment or Segment(created_by=by)
    segment.name, segment.description, segment.kind = name, description, kind
    segment.expression, segment.text = tree, to_text(tree)
    if kind == Segment.Kind.SNAPSHOT:
        _freeze(segment, audience.bitmap)
    else:
        segment.snapshot = segment.snapshot_at = segment.snapshot_count = None
    segment.full_clean(exclude=["snapshot"])
    segment.save()
    return segment


def _rename_picked(segment: Segment, *, name: str, description: str, kind: str, expression, text) -> Segment:
    tree, _positions = read_expression(expression=expression, text=text)
    if kind != segment.kind or tree != from_json(segment.expression):
        raise ExpressionError(_("This segment's members were picked by a model (%(kind)s): its audience cannot be "
                                "edited. Build a new one instead.") % {"kind": segment.origin.get("kind")})
    segment.name, segment.description = name, description
    segment.full_clean(exclude=["snapshot"])
    segment.save(update_fields=["name", "description", "updated_at"])
    return segment


@transaction.atomic
def save_picked_members(*, name: str, by, members: BitMap, expression: dict, origin: dict, description: str = "",
                        segment: Segment | None = None) -> Segment:
    """A snapshot segment of members a model picked (`origin` says which and how); `expression` only
    describes it and must be valid. Given `segment` (a retried job's), it is overwritten."""
    tree, _positions = read_expression(expression=expression)
    segment = segment or Segment(created_by=by)
    segment.name, segment.description, segment.kind = name, description, Segment.Kind.SNAPSHOT
    segment.expression, segment.text, segment.origin = tree, to_text(tree), origin
    _freeze(segment, members)
    segment.full_clean(exclude=["snapshot"])
    segment.save()
    return segment


def _freeze(segment: Segment, bitmap: BitMap) -> None:
    segment.snapshot = bitmap.serialize()
    segment.snapshot_at = timezone.now()
    segment.snapshot_count = len(bitmap)


@transaction.atomic
def refresh_snapshot(*, segment: Segment) -> Segment:
    """Take the snapshot again from today's data."""
    if segment.kind != Segment.Kind.SNAPSHOT:
        raise ExpressionError(_("Only snapshot segments are frozen; a dynamic segment is always current."))
    if segment.origin:
        raise ExpressionError(_("This segment's members were picked by a model (%(kind)s), not by its expression: "
                                "build it again to refresh it.") % {"kind": segment.origin.get("kind")})
    _tree, audience = audience_for(expression=segment.expression)
    _freeze(segment, audience.bitmap)
    segment.save(update_fields=["snapshot", "snapshot_at", "snapshot_count", "updated_at"])
    return segment


def segment_audience(segment: Segment) -> engine.Audience:
    """Members now (dynamic) or as frozen (snapshot)."""
    if segment.kind == Segment.Kind.SNAPSHOT and segment.snapshot is not None:
        return engine.Audience(bitmap=BitMap.deserialize(bytes(segment.snapshot)))
    return audience_for(expression=segment.expression)[1]


def overlap(*, crowds: list[dict]) -> dict:
    """Every in/out combination of 2–4 crowds: its size and the expression that selects it."""
    if not 2 <= len(crowds) <= 4:
        raise ExpressionError(_("Compare between 2 and 4 crowds."))
    trees, bitmaps = [], []
    for crowd in crowds:
        if crowd.get("segment") is not None:
            tree = from_json(crowd["segment"].expression)
            audience = segment_audience(crowd["segment"])
        else:
            tree, audience = audience_for(expression=crowd.get("expression"), text=crowd.get("text"))
        trees.append(tree)
        bitmaps.append(audience.bitmap)
    universe = engine.current_index().universe
    cells = []
    for pattern in product((True, False), repeat=len(crowds)):
        members = BitMap(universe)
        for inside, bitmap in zip(pattern, bitmaps, strict=True):
            members = members & bitmap if inside else members - bitmap
        parts = [tree if inside else {"not": tree} for inside, tree in zip(pattern, trees, strict=True)]
        tree = from_json({"all": parts})
        cells.append({"in": list(pattern), "count": len(members), "expression": tree, "text": to_text(tree)})
    return {"crowds": [{"text": to_text(tree), "count": len(bitmap)} for tree, bitmap in zip(trees, bitmaps, strict=True)],
            "total": len(universe), "cells": cells}


@transaction.atomic
def delete_segment(*, segment: Segment) -> None:
    """Delete a saved segment; refused, naming them, while campaigns use it as their audience."""
    try:
        segment.delete()
    except ProtectedError as error:
        users = sorted({str(obj) for obj in error.protected_objects})
        raise ValidationError({"detail": [
            _("This segment is the audience of %(count)d campaign(s): %(names)s. Change their audience first.")
            % {"count": len(users), "names": ", ".join(users[:10]) + ("…" if len(users) > 10 else "")}]}) from error


def record_segment_counts(*, day=None) -> int:
    """Today's size of every dynamic segment (a snapshot's is fixed), once a day; again the same day
    it overwrites. Segments that cannot be evaluated are skipped (their page says why)."""
    day = day or timezone.localdate()
    recorded = 0
    for segment in Segment.objects.filter(kind=Segment.Kind.DYNAMIC).defer("snapshot"):
        try:
            count = segment_audience(segment).count
        except ExpressionError:
            continue
        SegmentCount.objects.update_or_create(segment=segment, day=day, defaults={"count": count})
        recorded += 1
    return recorded
