"""Template context shared by every page: the left navigation for the signed-in role."""

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, role_of

# (url name, label, roles allowed). An entry whose URL does not exist yet is left out, so
# the navigation only ever offers pages that are built.
NAVIGATION = [
    ("customers:list", _("Customers"), {Role.ADMIN, Role.MARKETING_MANAGER, Role.ACCOUNT_MANAGER}),
    ("customers:tags", _("Tags"), {Role.ADMIN, Role.MARKETING_MANAGER}),
    ("customers:import", _("Import"), {Role.ADMIN, Role.MARKETING_MANAGER}),
    ("segments:list", _("Segments"), {Role.ADMIN, Role.MARKETING_MANAGER}),
    ("campaigns:list", _("Campaigns"), {Role.ADMIN, Role.MARKETING_MANAGER}),
    ("campaigns:my_tasks", _("My tasks"), {Role.ACCOUNT_MANAGER}),  # badge: see BADGES
    ("campaigns:reports", _("Reports"), {Role.ADMIN, Role.MARKETING_MANAGER}),
    ("admin:index", _("Admin"), {Role.ADMIN}),
]

# Entries that show a count beside their label: url name → function(user) → int.
BADGES = {"campaigns:my_tasks": "campaigns.selectors.due_now_count"}


def navigation(request):
    """The navigation entries the current user may open, with the current one marked.

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
    entries = []
    for url_name, label, roles in NAVIGATION:
        if role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        badge = import_string(BADGES[url_name])(user) if url_name in BADGES else None
        entries.append({"url": url, "label": label, "active": False, "badge": badge})
    # Only the entry with the longest matching prefix is current (/customers/tags/ is Tags, not Customers).
    matching = [entry for entry in entries if request.path.startswith(entry["url"])]
    if matching:
        max(matching, key=lambda entry: len(entry["url"]))["active"] = True
    return {"navigation": entries, "user_role": role}
