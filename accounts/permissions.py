"""The manager permission, once: pages (`manager_required`) and the API (`IsManager`, `IsManagerOrReadOnly`).

Marketing managers and admins work with every customer, segment and campaign; account managers
only with their own customers and tasks (row-level rules live in each app's selectors).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from .roles import is_manager


def manager_required(view):
    """Pages for marketing managers and admins only."""
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


class IsManager(permissions.BasePermission):
    """API endpoints for marketing managers and admins only."""

    message = _("This is for marketing managers and admins.")

    def has_permission(self, request, view):
        return is_manager(request.user)


class IsManagerOrReadOnly(permissions.BasePermission):
    """Writes to shared data (tags, new customers, imports) are for managers and admins."""

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or is_manager(request.user)
