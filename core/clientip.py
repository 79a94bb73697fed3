"""The client's address: the connecting one, or — behind TRUSTED_PROXY_COUNT proxies of ours —
the one the outermost of them saw, read from the right of X-Forwarded-For. Entries further left
are whatever the client wrote and are never trusted (rotating them defeated the login limits)."""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]
