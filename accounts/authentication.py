"""API authentication: the token, sent the documented way or the way generated clients send it, and
the session — both refusing users who are inactive or have no role.

Its own module: DRF imports it while loading its settings, before the apps' API modules exist, so
the accounts imports are made when a request is authenticated.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header


class TokenOrBearerAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` (the documented form) or `Bearer <key>`, which is what clients
    generated from an OpenAPI bearer scheme send. Keys are accounts.ApiToken's."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: send `Token <key>` or `Bearer <key>`."))
        try:
            key = parts[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from error
        from accounts.tokens import TokenRefused, user_for_key

        try:
            token, user = user_for_key(key)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from refused
        return user, token

    def authenticate_header(self, request):
        return "Token"


class RoleSessionAuthentication(SessionAuthentication):
    """The browser session, for users who still hold a role (a user whose role was taken away is
    signed in but may do nothing)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            from accounts.roles import role_of

            if role_of(result[0]) is None:
                raise exceptions.AuthenticationFailed(_("This account has no role any more; ask an admin."))
        return result


class TokenOrBearerScheme(OpenApiAuthenticationExtension):
    target_class = TokenOrBearerAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": str(_("The token from POST /api/v1/auth/token/, sent as `Authorization: Bearer <token>` "
                                     "or `Authorization: Token <token>`. It expires (see `expires_at`) and ends "
                                     "when the password changes; list and revoke yours at /api/v1/auth/tokens/."))}


class RoleSessionScheme(OpenApiAuthenticationExtension):
    target_class = RoleSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
