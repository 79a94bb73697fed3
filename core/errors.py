"""Error pages that must work when the database does not: no templates that query, no sessions."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found


def server_error(request, *args, **kwargs):
    """handler500: a lost database is a 503 that says nothing was saved; anything else a plain 500."""
    error = sys.exc_info()[1]
    unavailable = isinstance(error, (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    message = (_("The database is not reachable right now, so nothing was saved. Please try again in a minute.")
               if unavailable else _("Something went wrong on our side. The error is logged; please try again."))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=status)
    else:
        html = loader.get_template("error.html").render({"status": status, "message": message})
        response = HttpResponse(html, status=status)
    if unavailable:
        response["Retry-After"] = "30"
    return response


def not_found(request, exception=None):
    """handler404: an API path that matches no route (e.g. /api/v1/campaigns/abc/) answers JSON as
    every other API error does; pages keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)


def forbidden(request, exception=None):
    """handler403: a page the user's role does not open (an account manager on the segments page) says
    so in their language, with a way back, instead of Django's bare "403 Forbidden"."""
    message = str(exception or "") or _("Your role does not give access to this page. Ask a marketing manager if "
                                        "you need it.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    return HttpResponse(loader.get_template("error.html").render({"status": 403, "message": message}), status=403)
