"""Signed in is not enough: a user whose role was taken away (or never given) reaches no page.

Roles are groups (accounts.roles) and can be removed while the user stays active and signed in;
every page then answers 403 saying why, until an admin gives a role back. The API refuses such
users in its authentication classes (accounts.authentication)."""

from django.shortcuts import render

from .roles import role_of

OPEN_PATHS = ("/login/", "/logout/", "/i18n/", "/static/", "/api/")


class RoleRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and role_of(user) is None
                and not request.path.startswith(OPEN_PATHS)):
            return render(request, "registration/no_role.html", status=403)
        return self.get_response(request)
