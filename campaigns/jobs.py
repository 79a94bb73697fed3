"""Celery entry points for campaigns: thin, ids in, a small dict out."""

from celery import shared_task
from django.db import IntegrityError, OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True, max_retries=3)
def launch_campaign(job_id: str) -> dict:
    return services.run_launch(job_id=job_id)


@shared_task
def launch_due_campaigns() -> int:
    return services.launch_due_campaigns()
