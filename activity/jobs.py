"""Celery entry points for activity: thin, ids in, a small dict out."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_activity(job_id: str) -> dict:
    return services.run_import(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def record_dormancy() -> int:
    return services.record_dormancy()
