"""API authentication: the token, sent the documented way or the way generated clients send it.

Its own module: DRF imports it while loading its settings, before the apps' API modules exist.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header


class TokenOrBearerAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` (the documented form) or `Bearer <key>`, which is what clients
    generated from an OpenAPI bearer scheme send."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and parts[0].lower() == b"bearer":
            try:
                key = parts[1].decode()
            except UnicodeError as error:
                raise exceptions.AuthenticationFailed(_("Invalid token header.")) from error
            return self.authenticate_credentials(key)
        return super().authenticate(request)  # "Token <key>", and every malformed header's message


class TokenOrBearerScheme(OpenApiAuthenticationExtension):
    target_class = TokenOrBearerAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": str(_("The token from POST /api/v1/auth/token/, sent as `Authorization: Bearer <token>` "
                                     "or `Authorization: Token <token>`."))}
