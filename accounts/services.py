"""Writes for users, roles and branches."""

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import Branch, User
from .roles import ROLE_PERMISSIONS, Role


def ensure_role_groups() -> None:
    """Create the role groups and give each its permissions (idempotent)."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # an app not migrated yet gets it on its own migrate
                wanted.append(permission)
        group.permissions.set(wanted)


@transaction.atomic
def create_or_update_user(
    *, username: str, role: str, password: str | None = None, branch_code: str | None = None,
    first_name: str = "", last_name: str = "", email: str = "",
) -> User:
    """Create a user with one role, or bring an existing one to that role (idempotent)."""
    role = Role(role)
    ensure_role_groups()
    branch = Branch.objects.get(code=branch_code) if branch_code else None
    user, created = User.objects.get_or_create(username=username)
    user.branch = branch or user.branch
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    user.email = email or user.email
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    if password:
        # The configured password rules (length, common, numeric, like the username): `add_user`
        # took "1" before. Raises ValidationError with every rule broken; nothing is saved.
        validate_password(password, user)
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role.value)])
    return user


@transaction.atomic
def ensure_branch(*, code: str, name: str, city: str = "") -> Branch:
    """Create a branch or update its name (idempotent)."""
    branch, _ = Branch.objects.update_or_create(code=code, defaults={"name": name, "city": city})
    return branch


def mark_queue_seen(*, user, at) -> None:
    """Remember when the user looked at their task queue (one UPDATE, no signals)."""
    User.objects.filter(pk=user.pk).update(queue_seen_at=at)


def set_availability(*, user, daily_capacity: int | None, away_until) -> None:
    """An account manager's daily capacity and absence, as the marketing manager sets them."""
    user.daily_capacity, user.away_until = daily_capacity, away_until
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["daily_capacity", "away_until"])
