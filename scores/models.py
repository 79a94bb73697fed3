"""Scores of every customer, computed by runs over activity data (scores.services.compute_scores).

A run is versioned: when, as of which day, over which inputs (row counts and the settings used),
with the fitted churn model. Its per-customer rows are written under the run's id and become the
current scores in one step, when the run is published; the audience index follows the published
run (segments.score_index), so a segment never mixes two runs.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, LifecycleStage


class IntentGroup(models.TextChoices):
    TOP = "top", _("Top 20 %")
    MIDDLE = "middle", _("20–60 %")
    BOTTOM = "bottom", _("Bottom 40 %")


class Consultation(models.TextChoices):
    SELF_DIRECTED = "self_directed", _("Self-directed")
    CONSULTATION_RELIANT = "consultation_reliant", _("Consultation-reliant")
    ASSET_MANAGED = "asset_managed", _("Asset-managed")


def default_intent_weights() -> dict:
    return {"product_view": 3.0, "app_open": 1.0, "login": 1.0, "consultation": 5.0}


def default_risk_coefficients() -> dict:
    return {"deposit": 0.0, "insurance": 0.2, "wealth": 0.3, "bond": 0.3, "advisory": 0.5, "other": 0.5,
            "fund": 0.6, "stock": 0.9, "margin": 1.0}


def default_purchase_kinds() -> list:
    return ["buy", "trade"]


def default_consultation_events() -> list:
    return ["consultation", "follow_official_account"]


def default_advisory_contract_events() -> list:
    return ["advisory_contract"]


class ScoreSettings(models.Model):
    """The team's settings for every score (one row). A run copies them into its inputs."""

    rfm_window_days = models.PositiveSmallIntegerField(_("RFM window (days)"), default=30)
    purchase_kinds = models.JSONField(_("transaction kinds that are purchases (churn model)"),
                                      default=default_purchase_kinds)
    intent_window_days = models.PositiveSmallIntegerField(_("intent window (days)"), default=30)
    intent_weights = models.JSONField(_("intent weight per event type"), default=default_intent_weights)
    risk_coefficients = models.JSONField(_("risk coefficient per product type"), default=default_risk_coefficients)
    size_weight = models.FloatField(_("asset-size adjustment"), default=0.2)
    consultation_window_days = models.PositiveSmallIntegerField(_("consultation window (days)"), default=180)
    consultation_events = models.JSONField(_("event types that are consultations"),
                                           default=default_consultation_events)
    advisory_contract_events = models.JSONField(_("event types that are advisory contracts"),
                                                default=default_advisory_contract_events)
    # Lifecycle rules, applied in this order; the first that holds gives the stage (DESIGN in docs/scores.md).
    churned_after_days = models.PositiveIntegerField(_("churned: no transaction for more than (days)"), default=180)
    new_within_days = models.PositiveIntegerField(_("new: first transaction within (days)"), default=90)
    declining_trend = models.FloatField(_("declining: holdings changed by at most (fraction)"), default=-0.2)
    declining_idle_days = models.PositiveIntegerField(_("declining: no transaction for more than (days)"), default=60)
    trend_days = models.PositiveSmallIntegerField(_("trend window (days)"), default=90)
    mature_value = models.DecimalField(_("mature: holdings of at least"), max_digits=16, decimal_places=2,
                                       default=100_000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("score settings")
        verbose_name_plural = _("score settings")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    FAILED = "failed", _("Failed")


class ScoreRun(models.Model):
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=16, choices=RunStatus, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    took_seconds = models.FloatField(null=True, blank=True)
    # Row counts read, the settings used: what this run's numbers stand on.
    inputs = models.JSONField(default=dict)
    # The churn model fitted in this run: r, alpha, a, b, log_likelihood, customers (scores.bgnbd.Fit).
    churn_model = models.JSONField(default=dict)
    # Per score, counts per value or band; lifecycle moves against the run before (from → to: customers).
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("score run")
        verbose_name_plural = _("score runs")
        indexes = [models.Index(fields=["status", "id"], name="scorerun_status_idx")]


class CustomerScore(models.Model):
    """One customer's scores in one run, with the inputs each came from (for the explanation)."""

    # No database constraints and no index by customer: a run writes a million rows at once, and the two
    # foreign-key checks per row and a second index cost more than the rest of the write (measured,
    # docs/benchmarks.md). Rows are only written by a run, for customers it has just read; a customer
    # deleted since keeps an orphan row until the next run, which nothing reaches (the pages and the API
    # look customers up first, the audience index intersects with the live customers).
    run = models.ForeignKey(ScoreRun, on_delete=models.DO_NOTHING, related_name="scores", db_index=False,
                            db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.DO_NOTHING, related_name="scores", db_index=False,
                                 db_constraint=False)
    # RFM (brokerage definition): days since the last transaction; transactions and amount in the window.
    recency_days = models.IntegerField(null=True)
    frequency = models.IntegerField(default=0)
    monetary = models.FloatField(default=0)
    rfm_r = models.PositiveSmallIntegerField(null=True)
    rfm_f = models.PositiveSmallIntegerField(null=True)
    rfm_m = models.PositiveSmallIntegerField(null=True)
    # Churn (BG/NBD, weeks): repeat purchase days, first to last purchase, first purchase to as-of.
    repeat_purchases = models.IntegerField(null=True)
    purchase_recency_weeks = models.FloatField(null=True)
    purchase_age_weeks = models.FloatField(null=True)
    p_alive = models.FloatField(null=True)
    churn_risk = models.FloatField(null=True)
    expected_purchases_90d = models.FloatField(null=True)
    # Lifecycle: its inputs and the stage the rules gave.
    tenure_days = models.IntegerField(null=True)
    holdings_value = models.FloatField(null=True)
    holdings_trend = models.FloatField(null=True)
    lifecycle = models.CharField(max_length=16, choices=LifecycleStage)
    # Purchase intent: weighted events in the window, and the group by rank.
    intent_score = models.FloatField(default=0)
    intent_group = models.CharField(max_length=8, choices=IntentGroup)
    # Risk preference from holdings; consultation dependency.
    risk_preference = models.FloatField(null=True)
    consultation = models.CharField(max_length=24, choices=Consultation)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="customerscore_once_per_run")]

    @property
    def rfm_cell(self) -> str:
        if self.rfm_r is None:
            return ""
        return f"{self.rfm_r}{self.rfm_f}{self.rfm_m}"
