"""Celery entry points for segments: thin."""

from celery import shared_task

from . import exports, services


@shared_task
def record_segment_counts() -> int:
    return services.record_segment_counts()


@shared_task(acks_late=True)
def export_segment(job_id: str) -> dict:
    return exports.run_segment_export(job_id=job_id)
