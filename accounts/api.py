"""Token sign-in for API clients: POST {username, password} → {token}."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle

from core.api import DETAIL, FIELD_ERRORS
from core.parsers import JSONParser


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (throttled, and locked by axes)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    parser_classes = [JSONParser]
    authentication_classes = []  # the way in: it needs no token (and no session, so no CSRF)
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["auth"], auth=[],
        request=inline_serializer("Credentials", {"username": serializers.CharField(),
                                                   "password": serializers.CharField()}),
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}),
                   400: FIELD_ERRORS, 429: DETAIL},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
