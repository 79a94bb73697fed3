"""Celery entry points for auto-tag rules: thin, ids in, a small dict out."""

from celery import shared_task
from django.db import OperationalError

from . import services
from .models import RuleApplication, TagRule


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_rule(rule_id: int, reason: str = RuleApplication.Reason.SAVED) -> dict:
    rule = TagRule.objects.select_related("tag").filter(pk=rule_id, active=True).first()
    if rule is None:
        return {}
    application = services.apply_rule(rule=rule, reason=reason)
    return {"entered": application.entered, "left": application.left, "members": application.members}


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_rules(reason: str = RuleApplication.Reason.SCHEDULE) -> dict:
    applications = services.apply_rules(reason=reason)
    return {"rules": len(applications)}
