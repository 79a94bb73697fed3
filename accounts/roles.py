"""The three roles, held as groups, and the one helper every view and API permission uses."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MARKETING_MANAGER = "marketing_manager", _("Marketing manager")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    ADMIN = "admin", _("Admin")


# Model permissions each role's group holds (for the Django admin and has_perm checks).
# Row-level rules (an account manager sees only their own) live in the selectors.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.MARKETING_MANAGER: [
        "customers.view_customer", "customers.add_customer", "customers.change_customer",
        "customers.view_tag", "customers.add_tag", "customers.change_tag", "customers.delete_tag",
        "customers.import_customers", "customers.export_customers",
        "accounts.view_branch",
    ],
    Role.ACCOUNT_MANAGER: [
        "customers.view_customer", "customers.change_customer", "customers.view_tag",
        "customers.export_customers",
    ],
    Role.ADMIN: [],  # admins are superusers: every permission
}


def role_of(user) -> Role | None:
    """The user's role, cached on the user object for the request; None for no role."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_loopcrm_role", "unset")
    if cached != "unset":
        return cached
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = set(user.groups.values_list("name", flat=True))
        role = next((r for r in (Role.ADMIN, Role.MARKETING_MANAGER, Role.ACCOUNT_MANAGER) if r.value in names), None)
    user._loopcrm_role = role
    return role


def is_manager(user) -> bool:
    """Marketing managers and admins see every customer, task and campaign."""
    return role_of(user) in (Role.ADMIN, Role.MARKETING_MANAGER)


def is_account_manager(user) -> bool:
    return role_of(user) == Role.ACCOUNT_MANAGER
