"""Celery entry points for campaigns: thin, ids in, a small dict out. Services enqueue them by name."""

from datetime import datetime

from celery import shared_task
from django.db import IntegrityError, OperationalError

from campaigns.analytics import history, result_tags, stored, weekly
from campaigns.lifecycle import services as lifecycle
from campaigns.models import Campaign
from campaigns.recurring import services as recurring
from campaigns.triggers import services as triggers
from core.services import coalesced_run_started


@shared_task(acks_late=True, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True, max_retries=3)
def launch_campaign(job_id: str) -> dict:
    return lifecycle.run_launch(job_id=job_id)


@shared_task
def launch_due_campaigns() -> int:
    return lifecycle.launch_due_campaigns()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def launch_due_waves() -> list[int]:
    return recurring.launch_due_waves()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def refresh_campaign_metrics(campaign_id: int) -> bool:
    return stored.refresh_metrics(campaign_id=campaign_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def refresh_attribution(product_ids: list[int], first: str, last: str) -> int:
    return stored.refresh_attribution(product_ids=product_ids, first=datetime.fromisoformat(first),
                                      last=datetime.fromisoformat(last))


@shared_task(acks_late=True)
def recompute_all_metrics() -> int:
    return stored.recompute_all_metrics()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def tag_campaign_results(campaign_id: int) -> dict:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    return result_tags.tag_results(campaign=campaign) if campaign else {}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_history(job_id: str) -> dict:
    return history.run_history_import(job_id=job_id)


@shared_task(acks_late=True)
def send_weekly_report(week: str | None = None) -> dict:
    return weekly.send_weekly_report(week=week)


@shared_task(acks_late=True, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True, max_retries=5)
def fire_triggers() -> int:
    coalesced_run_started(triggers.FIRE_KEY)
    return triggers.fire_pending()


@shared_task(acks_late=True, autoretry_for=(OperationalError, IntegrityError), retry_backoff=True, max_retries=5)
def settle_trigger_firings() -> int:
    return triggers.settle_due()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def check_condition_triggers() -> int:
    return triggers.check_condition_rules()
