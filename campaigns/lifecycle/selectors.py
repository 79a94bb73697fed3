"""Reads of campaigns."""

from django.db.models import QuerySet

from campaigns.models import Campaign


def campaigns_list() -> QuerySet[Campaign]:
    """Campaigns with what the list and the API show beside them."""
    return Campaign.objects.select_related("owner", "segment", "launch_job")
