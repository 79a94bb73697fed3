"""Celery entry points for segments: thin."""

from celery import shared_task

from . import services


@shared_task
def record_segment_counts() -> int:
    return services.record_segment_counts()

