"""Writes: score runs (compute_scores), the team's score settings, accepting a lifecycle suggestion."""

import logging
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import enqueue, queue_job

from . import compute
from .inputs import read_inputs
from .models import CustomerScore, RunStatus, ScoreRun, ScoreSettings
from .selectors import HISTOGRAM_BINS, current_settings, published_run, run_frame
from .write import write_scores

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=2)  # beyond CELERY_TASK_TIME_LIMIT (1 h)


class ScoresRefused(ValueError):
    """A run or a settings change that cannot be made; the message says why."""


def compute_scores(*, as_of: date | None = None) -> ScoreRun:
    """Every score of every customer as of a day (default today in TIME_ZONE), published as one run.

    The rows are written under a new run id and become current in one short transaction, so the
    audience index and the pages switch from the old run to the new one at once; a failed run leaves
    the published one in place. Older runs' rows are then deleted (their summaries stay).
    """
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    settings = current_settings()
    # A run whose worker was killed stays "running"; after the task time limit it cannot be running.
    ScoreRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=timezone.now() - STALE_AFTER).update(
        status=RunStatus.FAILED, error=_("Interrupted (its worker stopped)."), finished_at=timezone.now())
    run = ScoreRun.objects.create(as_of=as_of, inputs={"settings": settings_snapshot(settings)})
    stages = {}
    try:
        mark = time.perf_counter()
        inputs = read_inputs(as_of, settings)
        stages["read"], mark = round(time.perf_counter() - mark, 2), time.perf_counter()
        previous = published_run()
        frame, model = compute.every_score(inputs, settings, start=previous.churn_model if previous else None)
        moves = _lifecycle_moves(previous, frame)
        stages["compute"], mark = round(time.perf_counter() - mark, 2), time.perf_counter()
        with transaction.atomic():
            written = write_scores(run.pk, frame)
            stages["write"] = round(time.perf_counter() - mark, 2)
            # Locked: two runs finishing together publish one after the other, never both.
            list(ScoreRun.objects.select_for_update().filter(status=RunStatus.PUBLISHED))
            ScoreRun.objects.filter(status=RunStatus.PUBLISHED).update(status=RunStatus.SUPERSEDED)
            run.status = RunStatus.PUBLISHED
            run.finished_at = timezone.now()
            run.took_seconds = round(time.perf_counter() - started, 3)
            run.inputs = {**run.inputs, **inputs.counts(), "written": written, "stages_s": stages}
            run.churn_model = model.as_dict() if model else {}
            run.summary = {**summarise(frame), "lifecycle_moves": moves,
                           "previous_run": previous.pk if previous else None}
            run.save()
    except Exception as error:
        logger.exception("score run %s failed", run.pk)
        ScoreRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=str(error)[:2000],
                                                  finished_at=timezone.now())
        raise
    mark = time.perf_counter()
    _delete_old_rows(keep=run.pk)
    stages["delete_old_rows"] = round(time.perf_counter() - mark, 2)
    ScoreRun.objects.filter(pk=run.pk).update(inputs={**run.inputs, "stages_s": stages})
    # The auto-tag rules follow the new scores (by name: the autotags app sits above this one).
    transaction.on_commit(lambda: enqueue("autotags.jobs.apply_rules", "scores"))
    return run


def _lifecycle_moves(previous: ScoreRun | None, frame: pd.DataFrame) -> dict:
    """Customers per "from→to" lifecycle change against the published run (new customers from "")."""
    if previous is None:
        return {}
    before = run_frame(previous.pk, ["lifecycle"])["lifecycle"]
    after = frame["lifecycle"]
    before = before.reindex(after.index).fillna("")
    changed = before != after
    counts = pd.DataFrame({"from": before[changed], "to": after[changed]}).value_counts()
    return {f"{old}→{new}": int(count) for (old, new), count in counts.items()}


def summarise(frame: pd.DataFrame) -> dict:
    """Counts per value of the group scores and a histogram of the continuous ones (for the pages)."""
    summary = {name: {str(key): int(count) for key, count in frame[name].value_counts().sort_index().items()}
               for name in ("lifecycle", "intent_group", "consultation")}
    for name in ("rfm_r", "rfm_f", "rfm_m"):  # 1–5 (floats in the frame beside missing values)
        summary[name] = {str(int(key)): int(count)
                         for key, count in frame[name].dropna().value_counts().sort_index().items()}
    for name in ("churn_risk", "risk_preference"):
        values = frame[name].dropna().to_numpy(dtype=float)
        counts, _edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
        summary[name] = {"bins": [round(step / HISTOGRAM_BINS, 2) for step in range(HISTOGRAM_BINS + 1)],
                         "counts": [int(count) for count in counts], "missing": int(frame[name].isna().sum())}
    return summary


def _delete_old_rows(*, keep: int) -> None:
    """Only the published run's rows are kept (one probe of the (run, customer) index per older run)."""
    for old in ScoreRun.objects.exclude(pk=keep).exclude(status=RunStatus.RUNNING).values_list("pk", flat=True):
        CustomerScore.objects.filter(run_id=old).delete()


def settings_snapshot(settings: ScoreSettings) -> dict:
    return {field.name: _plain(getattr(settings, field.name)) for field in ScoreSettings._meta.concrete_fields
            if field.name not in ("id", "updated_at", "updated_by")}


def _plain(value):
    return str(value) if hasattr(value, "as_tuple") else value


def update_settings(*, by, **changes) -> ScoreSettings:
    """Save the team's score settings; the next run uses them (and says so in its inputs)."""
    settings = current_settings()
    weights = changes.get("intent_weights")
    if weights is not None and (not isinstance(weights, dict) or any(
            not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 for value in weights.values())):
        raise ScoresRefused(_("Intent weights must be an event type → a number of at least 0."))
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.updated_by = by
    settings.full_clean()
    settings.save()
    return settings


def accept_lifecycle_suggestion(*, by, suggestion: dict) -> ScoreSettings:
    """Take the K-means suggestion's thresholds into the lifecycle rules."""
    return update_settings(by=by, mature_value=Decimal(str(suggestion["mature_value"])).quantize(Decimal("0.01")),
                           declining_trend=float(suggestion["declining_trend"]))


def queue_compute_scores(*, by, as_of: date | None = None):
    """A job that runs compute_scores (the page's "recompute now")."""
    return queue_job(kind="scores", task="scores.jobs.compute_scores_job", by=by,
                     params={"as_of": as_of.isoformat() if as_of else None})
