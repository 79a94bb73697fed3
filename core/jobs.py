"""Celery entry points for housekeeping."""

from celery import shared_task

from . import export_jobs, services


@shared_task
def expire_stale_jobs() -> int:
    return services.expire_stale_jobs()


@shared_task
def requeue_unsent_jobs() -> int:
    return services.requeue_unsent_jobs()


@shared_task
def ping(job_id: str) -> str:
    """Round trip through a real worker: used by health checks and the worker test."""
    services.start_job(job_id=job_id, stage="ping")
    services.finish_job(job_id=job_id, result={"pong": True})
    return "pong"


@shared_task(acks_late=True)  # redelivered if the worker dies mid-file: the job writes it again
def write_export(job_id: str) -> dict:
    return export_jobs.run_export(job_id=job_id)
