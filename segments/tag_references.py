"""Saved segments name tags by slug: found and rewritten when a tag is renamed, merged or deleted
(registered with customers.tag_references in SegmentsConfig.ready)."""

from django.db import transaction
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
def rename_in_segments(renames: dict[str, str]) -> int:
    rewritten = 0
    for segment in Segment.objects.select_for_update().only("pk", "expression", "text"):
        if tags_in(segment.expression) & set(renames):
            segment.expression = rename_tags(segment.expression, renames)
            segment.text = to_text(segment.expression)
            segment.save(update_fields=["expression", "text", "updated_at"])
            rewritten += 1
    return rewritten
