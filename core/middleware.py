"""Middleware: the Content-Security-Policy and no-store headers, and refusing input no one means to send."""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Add the CSP header to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class RefuseNulCharactersMiddleware:
    """A 400 for any request whose query parameters (or form fields) contain a NUL character.

    PostgreSQL cannot hold NUL in text, so a search or filter carrying one raised a 500 deep inside
    the query; no one means to send it, so it is refused once here, for every page and endpoint,
    naming the parameter. (JSON bodies are checked by their serializers' fields.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        parameter = _parameter_with_nul(request)
        if parameter is not None:
            return bad_request(request, _("The parameter “%(name)s” contains a NUL character (U+0000); "
                                          "remove it and try again.") % {"name": parameter[:80]})
        return self.get_response(request)


def _parameter_with_nul(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    sources = [request.GET]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        sources.append(request.POST)
    for data in sources:
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "")
    return None


def bad_request(request, message: str):
    """A 400 in the form the client reads: JSON for the API, a plain page otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` on every page, API answer and export that does not set its
    own: nearly all of them carry customers' personal data, which no shared or browser cache may
    keep (static files are served before this by WhiteNoise, with their own long-lived headers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            patch_cache_control(response, no_store=True, private=True)
        return response
