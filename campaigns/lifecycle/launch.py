"""The set-based launch: audience → exclusions → holdout → tasks, inside the caller's transaction.

No Python loop over customers: the audience bitmap is copied into a temporary table (COPY on
PostgreSQL), one CREATE … AS SELECT classifies every customer (why excluded, treatment or
control), and one INSERT … SELECT writes the tasks with their assignee. DESIGN.md measured
INSERT … SELECT at ~290k rows/s against ~46k for bulk_create.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pyroaring import BitMap

from activity.suitability import UNASSESSED_RISK_LEVEL
from campaigns.lifecycle.dispatch import Assignment, assignment_for
from campaigns.lifecycle.pressure import pressure_sql
from campaigns.models import Campaign, Task
from core.bulk import copy_rows, create_temp_table, drop_temp_tables
from core.faults import pause_for_failure_tests
from segments.expression import from_json, to_text
from segments.services import audience_for, segment_audience

AUDIENCE_TABLE = "campaign_launch_audience"
PLAN_TABLE = "campaign_launch_plan"

# Why a customer of the audience gets no task. A customer is counted under the first reason
# that applies, in this order, so the reasons add up to the number excluded.
EXCLUSION_REASONS = {
    "do_not_contact": _("Do not contact"),
    "unsuitable": _("Risk level below the product's (suitability)"),
    "opted_out": _("Opted out of this channel"),
    "frequency_cap": _("Contacted recently (frequency cap)"),
    "contact_pressure": _("Contact-pressure limit reached"),
    "no_account_manager": _("No account manager to assign"),
    "deleted": _("No longer on file"),
}
BUCKETS = 10_000  # holdout granularity: 0.01 %


@dataclass
class LaunchPlan:
    text: str
    audience: int
    excluded: dict[str, int] = field(default_factory=dict)
    holdout: int = 0
    treatment: int = 0

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    def as_dict(self) -> dict:
        return {"text": self.text, "audience": self.audience, "excluded": self.excluded,
                "excluded_total": self.excluded_total, "holdout": self.holdout, "tasks": self.treatment}


def resolve_audience(campaign: Campaign) -> tuple[str, BitMap]:
    """The audience now: a saved segment (dynamic or frozen) or the campaign's own expression."""
    if campaign.segment_id:
        return to_text(from_json(campaign.segment.expression)), segment_audience(campaign.segment).bitmap
    tree, audience = audience_for(expression=campaign.expression, text=None if campaign.expression else campaign.text)
    return to_text(tree), audience.bitmap


def holdout_buckets(customer_ids: np.ndarray, seed: int) -> np.ndarray:
    """A reproducible bucket 0..9999 per customer: a 32-bit integer hash of (id, seed).

    The same seed always draws the same customers; different campaigns (different seeds)
    draw independent groups. Vectorised: ~2 ms for 250k ids.
    """
    mask = np.uint64(0xFFFFFFFF)
    multiplier = np.uint64(0x45D9F3B)
    x = (customer_ids.astype(np.uint64) ^ np.uint64(seed)) & mask
    x = (((x >> np.uint64(16)) ^ x) * multiplier) & mask
    x = (((x >> np.uint64(16)) ^ x) * multiplier) & mask
    x = (x >> np.uint64(16)) ^ x
    return (x % np.uint64(BUCKETS)).astype(np.int64)


def is_control(customer_ids: np.ndarray, *, seed: int, holdout_pct) -> np.ndarray:
    threshold = int(round(float(holdout_pct) * BUCKETS / 100))
    return holdout_buckets(customer_ids, seed) < threshold


def task_due_at(campaign: Campaign, now: datetime) -> datetime | None:
    """The end of the campaign's contact window on its wave's day (or the launch day), else none."""
    if campaign.contact_until is None:
        return None
    zone = timezone.get_current_timezone()
    return datetime.combine(campaign.wave_date or timezone.localdate(now), campaign.contact_until, tzinfo=zone)


def task_due_date(campaign: Campaign, today: date) -> date | None:
    if campaign.due_date:
        return campaign.due_date
    if campaign.sla_days is not None:
        return today + timedelta(days=campaign.sla_days)
    return None


# --- the SQL ------------------------------------------------------------------------------------

def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _opted_out_sql() -> str:
    if connection.vendor == "postgresql":
        return "c.opted_out_channels ? %s"
    return "EXISTS (SELECT 1 FROM json_each(c.opted_out_channels) WHERE json_each.value = %s)"


def _load_audience(campaign: Campaign, bitmap: BitMap) -> None:
    ids = np.frombuffer(bitmap.to_array(), dtype=np.uint32).astype(np.int64)
    control = is_control(ids, seed=campaign.holdout_seed, holdout_pct=campaign.holdout_pct)
    create_temp_table(AUDIENCE_TABLE, "(customer_id bigint NOT NULL, control smallint NOT NULL)")
    copy_rows(AUDIENCE_TABLE, ["customer_id", "control"],
              pd.DataFrame({"customer_id": ids, "control": control.astype(np.int16)}))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {AUDIENCE_TABLE}")  # temp tables are never auto-analysed


def _classify(campaign: Campaign, assignment: Assignment, now: datetime, products=None) -> None:
    """One row per audience customer still on file: exclusion reason (or NULL) and group."""
    task = _quote(Task._meta.db_table)
    group = _quote("group")
    required_risk = suitability_level(campaign, products)
    unsuitable = "COALESCE(c.risk_level, %s) < %s" if required_risk > 1 else "1 = 0"
    params: list = [UNASSESSED_RISK_LEVEL, required_risk] if required_risk > 1 else []
    params.append(campaign.channel)
    frequency_cap = "1 = 0"
    if campaign.frequency_cap_days:
        frequency_cap = (
            f"EXISTS (SELECT 1 FROM {task} t WHERE t.customer_id = c.id AND t.{group} = 'treatment' "
            f"AND t.campaign_id <> %s AND COALESCE(t.completed_at, t.created_at) >= %s)")
        cutoff = now - timedelta(days=campaign.frequency_cap_days)
        params += [campaign.pk or 0, connection.ops.adapt_datetimefield_value(cutoff)]
    pressure, pressure_params = pressure_sql(campaign, now)
    params += pressure_params
    create_temp_table(PLAN_TABLE, f"""AS
        SELECT c.id AS customer_id, c.owner_id AS owner_id, c.branch_id AS branch_id,
               CASE WHEN c.do_not_contact THEN 'do_not_contact'
                    WHEN {unsuitable} THEN 'unsuitable'
                    WHEN {_opted_out_sql()} THEN 'opted_out'
                    WHEN {frequency_cap} THEN 'frequency_cap'
                    WHEN {pressure} THEN 'contact_pressure'
                    WHEN {assignment.unassignable_sql} THEN 'no_account_manager'
               END AS reason,
               CASE WHEN a.control = 1 THEN 'control' ELSE 'treatment' END AS grp
        FROM {AUDIENCE_TABLE} a JOIN {_quote("customers_customer")} c ON c.id = a.customer_id""", params)


def suitability_level(campaign: Campaign, products=None) -> int:
    """The risk level a customer needs for this campaign (投资者适当性): the riskiest product promoted,
    when the check is on; 1 (everyone) otherwise. A customer without an assessment counts as level 1."""
    if not campaign.suitability:
        return 1
    if products is not None:  # an unsaved campaign's form: the products chosen so far
        return max((product.risk_level for product in products), default=1)
    if campaign.pk is None:
        return 1
    return max(campaign.products.values_list("risk_level", flat=True), default=1)


def _plan_counts(text: str, audience: int) -> LaunchPlan:
    plan = LaunchPlan(text=text, audience=audience)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reason, grp, COUNT(*) FROM {PLAN_TABLE} GROUP BY reason, grp")
        rows = cursor.fetchall()
    on_file = 0
    for reason, group, count in rows:
        on_file += count
        if reason:
            plan.excluded[reason] = plan.excluded.get(reason, 0) + count
        elif group == "control":
            plan.holdout = count
        else:
            plan.treatment = count
    if audience > on_file:  # deleted between the index answer and now: said, not hidden
        plan.excluded["deleted"] = audience - on_file
    return plan


def _write_tasks(campaign: Campaign, assignment: Assignment, treatment: int, now: datetime) -> int:
    """Every classified customer without an exclusion becomes a task; control rows have no assignee."""
    quote = _quote
    columns = ["campaign_id", "customer_id", "assignee_id", "group", "channel", "status", "priority", "due_date",
               "due_at", "version",
               "contact_result", "response", "failure_reason", "failure_note", "product", "note",
               "created_at", "updated_at"]
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    due = ops.adapt_datefield_value(task_due_date(campaign, timezone.localdate(now)))
    due_at = task_due_at(campaign, now)
    due_at = ops.adapt_datetimefield_value(due_at) if due_at else None
    # WHERE 1 = 1 keeps SQLite from reading ON CONFLICT as part of the join (its documented
    # parsing ambiguity for INSERT … SELECT … ON CONFLICT).
    sql = f"""
        INSERT INTO {quote(Task._meta.db_table)} ({", ".join(quote(column) for column in columns)})
        SELECT %s, p.customer_id,
               CASE WHEN p.grp = 'control' THEN NULL ELSE {assignment.assignee_sql(treatment)} END,
               p.grp, %s, 'open', %s, %s, %s, 1, '', '', '', '', '', '', %s, %s
        FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.grp, {assignment.partition_sql}
                                              ORDER BY p.customer_id) - 1 AS rn
              FROM {PLAN_TABLE} p WHERE p.reason IS NULL) p
        WHERE 1 = 1
        ON CONFLICT DO NOTHING"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, campaign.channel, campaign.priority, due, due_at, stamp, stamp])
        return cursor.rowcount


def plan_and_write(campaign: Campaign, *, now: datetime, write: bool,
                   managers: list[int] | None = None, products=None) -> tuple[LaunchPlan, int]:
    """Classify the audience and, when `write`, create the tasks. Runs in the caller's transaction.

    Raises DispatchError (settings cannot assign) and ExpressionError (the audience expression
    no longer resolves, e.g. a tag was deleted). On an error the caller's rollback also drops
    the temporary tables.
    """
    assignment = assignment_for(campaign, managers)
    text, bitmap = resolve_audience(campaign)
    _load_audience(campaign, bitmap)
    _classify(campaign, assignment, now, products)
    plan = _plan_counts(text, len(bitmap))
    written = _write_tasks(campaign, assignment, plan.treatment, now) if write and plan.treatment + plan.holdout else 0
    if write:
        pause_for_failure_tests()
    drop_temp_tables(PLAN_TABLE, AUDIENCE_TABLE)
    return plan, written


def preview_launch(campaign: Campaign, *, now: datetime, managers: list[int] | None = None,
                   products=None) -> LaunchPlan:
    """What a launch would do now — audience, exclusions by reason, holdout, tasks — writing nothing.

    Works for an unsaved campaign (the create form's live count) when `managers` is given.
    """
    with transaction.atomic():
        plan, _written = plan_and_write(campaign, now=now, write=False, managers=managers, products=products)
        transaction.set_rollback(True)
    return plan
