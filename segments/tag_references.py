"""Saved segments name tags by slug: found and rewritten when a tag is renamed, merged or deleted
(registered with customers.tag_references in SegmentsConfig.ready)."""

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.tag_references import TagReference

from .expression import rename_tags, tags_in, to_text
from .models import Segment


def segments_naming(slugs: set[str]) -> list[TagReference]:
    found = []
    for segment in Segment.objects.only("pk", "name", "expression").order_by("name"):
        named = tags_in(segment.expression) & slugs
        if named:
            found.append(TagReference(_("segment"), segment.name, reverse("segments:detail", args=[segment.pk]),
                                      tuple(sorted(named))))
    return found


@transaction.atomic
def rewrite_expressions(rows: QuerySet, renames: dict[str, str]) -> int:
    """Rename tags in the `expression` (and its `text`) of every row that names one — segments and
    draft campaigns alike; the rows are locked while rewritten."""
    rewritten = 0
    for row in rows.select_for_update().only("pk", "expression", "text"):
        if tags_in(row.expression) & set(renames):
            row.expression = rename_tags(row.expression, renames)
            row.text = to_text(row.expression)
            row.save(update_fields=["expression", "text", "updated_at"])
            rewritten += 1
    return rewritten


def rename_in_segments(renames: dict[str, str]) -> int:
    return rewrite_expressions(Segment.objects.all(), renames)
