"""Celery entry points for customers: thin, ids in, a small dict out."""

from celery import shared_task
from django.db import OperationalError

from . import changes, import_jobs


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_customers(job_id: str) -> dict:
    return import_jobs.run_import(job_id=job_id)


@shared_task
def purge_stale_uploads() -> int:
    return import_jobs.purge_stale_uploads()


@shared_task
def prune_change_log() -> int:
    return changes.prune()
