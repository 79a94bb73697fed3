"""Celery entry points for scores: thin, ids in, a small dict out."""

from datetime import date

from celery import shared_task
from django.db import OperationalError

from activity.ingest import SCORES_AFTER_ACTIVITY
from core import services as jobs

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def compute_scores(as_of: str | None = None) -> dict:
    """The nightly run (beat), and the run after activity arrives (coalesced: see activity.ingest)."""
    jobs.coalesced_run_started(SCORES_AFTER_ACTIVITY)
    run = services.compute_scores(as_of=date.fromisoformat(as_of) if as_of else None)
    return {"run": run.pk, "took_seconds": run.took_seconds}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def compute_scores_job(job_id: str) -> dict:
    """A run asked for on the scores page, tracked as a job."""
    job = jobs.start_job(job_id=job_id, stage="scores")
    try:
        as_of = job.params.get("as_of")
        run = services.compute_scores(as_of=date.fromisoformat(as_of) if as_of else None)
    except Exception as error:
        jobs.fail_job(job_id=job_id, errors=[str(error)])
        raise
    result = {"run": run.pk, "took_seconds": run.took_seconds}
    jobs.finish_job(job_id=job_id, result=result)
    return result
