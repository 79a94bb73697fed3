"""Sign-in pages and the home redirect."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from .roles import Role, role_of


@login_required
def home(request):
    """Send each role to the page it starts its day on."""
    if role_of(request.user) == Role.ACCOUNT_MANAGER:
        return redirect("customers:list")
    return redirect("customers:list")
