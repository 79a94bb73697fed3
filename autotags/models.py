"""Auto-tag rules: an expression (a score band is one: `churn_risk >= 0.7`) → a tag kept equal to it.

The tag is the rule's (Tag.source = rule): by hand it is read-only (customers.services refuses),
and each application writes who entered and left into the customers' tag history (TagChange,
source "rule"), with a summary row per application here.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Tag


class TagRule(models.Model):
    name = models.CharField(_("name"), max_length=120)
    tag = models.OneToOneField(Tag, on_delete=models.PROTECT, related_name="rule")
    expression = models.JSONField(_("expression"))
    text = models.TextField(_("expression (text)"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("auto-tag rule")
        verbose_name_plural = _("auto-tag rules")

    def __str__(self) -> str:
        return f"{self.name} → {self.tag.slug}"


class RuleApplication(models.Model):
    """One application of a rule: how many customers entered, left and hold the tag after it."""

    class Reason(models.TextChoices):
        SAVED = "saved", _("Rule saved")
        SCHEDULE = "schedule", _("Schedule")
        SCORES = "scores", _("Scores recomputed")
        IMPORT = "import", _("Activity import")

    rule = models.ForeignKey(TagRule, on_delete=models.CASCADE, related_name="applications")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=12, choices=Reason)
    entered = models.PositiveIntegerField()
    left = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    took_ms = models.FloatField()

    class Meta:
        ordering = ["-at", "-id"]
