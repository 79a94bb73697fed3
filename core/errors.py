"""Error pages that must work when the database does not: no templates that query, no sessions."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _


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
