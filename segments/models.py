"""Saved segments: a named expression, re-evaluated (dynamic) or frozen at a point in time."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.validators import refuse_control_characters


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (re-evaluated on every use)")
        SNAPSHOT = "snapshot", _("Snapshot (frozen members)")

    name = models.CharField(_("name"), max_length=120, unique=True, validators=[refuse_control_characters])
    description = models.TextField(_("description"), blank=True)
    expression = models.JSONField(_("expression"))
    text = models.TextField(_("expression text"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.DYNAMIC)
    # A snapshot keeps its members as a serialised roaring bitmap: a million ids in ~100 KB–2 MB.
    snapshot = models.BinaryField(_("snapshot members"), null=True, blank=True, editable=False)
    snapshot_at = models.DateTimeField(_("snapshot taken"), null=True, blank=True)
    snapshot_count = models.PositiveIntegerField(_("snapshot size"), null=True, blank=True)
    # Where a snapshot's members came from when not from its expression — a lookalike model's pick
    # (recommendations): {"kind": "lookalike", "seed_segment", "model_version", "features", …}. Such a
    # segment's expression only describes it (NOT the seed); its members are never re-evaluated.
    origin = models.JSONField(_("origin"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentCount(models.Model):
    """A segment's size on one day (recorded daily by segments.jobs.record_segment_counts): how the
    home page knows an audience moved sharply."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="counts")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("customers"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "day"], name="one_segment_count_a_day")]
        ordering = ["-day"]
