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


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def refresh_campaign_metrics(campaign_id: int) -> bool:
    from . import results

    return results.refresh_metrics(campaign_id=campaign_id)


@shared_task(acks_late=True)
def recompute_all_metrics() -> int:
    from . import results

    return results.recompute_all_metrics()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def tag_campaign_results(campaign_id: int) -> dict:
    from . import results
    from .models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    return results.tag_results(campaign=campaign) if campaign else {}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_history(job_id: str) -> dict:
    from . import history

    return history.run_history_import(job_id=job_id)


@shared_task(acks_late=True)
def send_weekly_report(week: str | None = None) -> dict:
    from . import results

    return results.send_weekly_report(week=week)
