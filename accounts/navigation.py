"""The left navigation: entries each app registers in its AppConfig.ready(), shown by role.

An app adds its pages without this module importing it (lower layers never import higher ones);
tests/core/test_navigation.py checks that every registered entry resolves.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .roles import Role, role_of

EVERYONE = frozenset({Role.ADMIN, Role.MARKETING_MANAGER, Role.ACCOUNT_MANAGER})
MANAGERS = frozenset({Role.ADMIN, Role.MARKETING_MANAGER})


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    roles: frozenset
    order: int
    badge: Callable | None = None  # function(user) -> int shown beside the label


ENTRIES: dict[str, Entry] = {}


def register(url_name: str, label, *, roles, order: int, badge: Callable | None = None) -> None:
    """Offer a page in the navigation to these roles (order: position from the top)."""
    ENTRIES[url_name] = Entry(url_name=url_name, label=label, roles=frozenset(roles), order=order, badge=badge)


def entries() -> list[Entry]:
    return sorted(ENTRIES.values(), key=lambda entry: entry.order)


def navigation(request):
    """Context processor: the entries the current user may open, with the current one marked.

    Computed once per request: templates rendered inside the page (tables, includes with a
    request) run the context processors again.
    """
    if not hasattr(request, "_loopcrm_navigation"):
        request._loopcrm_navigation = _navigation(request)
    return request._loopcrm_navigation


def _navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "user_role": None}
    role = role_of(user)
    shown = []
    for entry in entries():
        if role not in entry.roles:
            continue
        badge = entry.badge(user) if entry.badge else None
        shown.append({"url": reverse(entry.url_name), "label": entry.label, "active": False, "badge": badge})
    # Only the entry with the longest matching prefix is current (/customers/tags/ is Tags, not Customers).
    matching = [item for item in shown if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"navigation": shown, "user_role": role}
