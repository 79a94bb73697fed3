"""Celery entry points for recommendations: thin, ids in, a small dict out."""

from celery import shared_task
from django.db import OperationalError

from core import services as jobs

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_lookalike(job_id: str) -> dict:
    try:
        return services.build_lookalike(job_id=job_id)
    except OperationalError:
        raise
    except Exception as error:
        jobs.fail_job(job_id=job_id, errors=[str(error)])
        raise
