"""Reads for users and branches."""

from django.db.models import QuerySet

from .models import User
from .roles import Role


def account_managers() -> QuerySet[User]:
    """Active users in the account-manager role, by username."""
    return User.objects.filter(groups__name=Role.ACCOUNT_MANAGER, is_active=True).order_by("username")


def present_account_managers(day) -> QuerySet[User]:
    """Active account managers who are not away on `day`."""
    return account_managers().exclude(away_until__gte=day)
