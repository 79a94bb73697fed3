"""API tokens: issue, check, list and revoke (the model is accounts.ApiToken).

A token is valid until it expires (API_TOKEN_LIFETIME_DAYS), its user changes password, or its
user loses their role or is deactivated; a revoked token is deleted. Only the key's SHA-256 is
stored, so a copy of the database holds no usable key.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiToken
from .roles import role_of

# last_used_at is written at most this often per token: one write per request would double the
# writes of a busy client for a figure nobody needs to the second.
LAST_USED_PRECISION = timedelta(minutes=5)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_token(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for the user and its key (returned once); the oldest beyond the cap are dropped."""
    key = secrets.token_hex(20)  # 40 hex characters, as the tokens clients already handle
    now = timezone.now()
    token = ApiToken.objects.create(user=user, name=name, digest=digest(key), prefix=key[:8], created_at=now,
                                    expires_at=now + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS))
    keep = ApiToken.objects.filter(user=user).order_by("-created_at", "-id").values("pk")[:settings.API_TOKENS_PER_USER]
    ApiToken.objects.filter(user=user).exclude(pk__in=keep).delete()
    return token, key


class TokenRefused(Exception):
    """Why a key does not sign anyone in (the message is for the client)."""


def user_for_key(key: str):
    """The token and its user for a key, or TokenRefused saying why not."""
    token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
    if token is None:
        raise TokenRefused(_("Invalid token."))
    user, now = token.user, timezone.now()
    if token.expires_at <= now:
        raise TokenRefused(_("This token expired on %(when)s; sign in again for a new one.")
                           % {"when": token.expires_at.date().isoformat()})
    if user.password_changed_at and token.created_at < user.password_changed_at:
        raise TokenRefused(_("The password was changed after this token was issued; sign in again."))
    if not user.is_active:
        raise TokenRefused(_("User inactive or deleted."))
    if role_of(user) is None:
        raise TokenRefused(_("This account has no role any more; ask an admin."))
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token, user


def revoke_token(*, token: ApiToken) -> None:
    token.delete()
