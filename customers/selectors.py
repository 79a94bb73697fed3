"""Reads for customers and tags. Every customer read starts from customers_visible_to()."""

from collections.abc import Callable

from django.db.models import Count, Q, QuerySet

from accounts.roles import is_manager

from .models import Customer, CustomerTag, Tag, TagChange


def customers_visible_to(user) -> QuerySet[Customer]:
    """Every customer for managers and admins; an account manager's own customers only."""
    customers = Customer.objects.select_related("branch", "owner")
    if is_manager(user):
        return customers
    if user.is_authenticated:
        return customers.filter(owner=user)
    return customers.none()


def tags_with_counts(user) -> QuerySet[Tag]:
    """Tags annotated with how many of the customers `user` may see carry each (an account manager
    counts her own customers, never the bank's)."""
    if is_manager(user):
        counted = Count("customer_links")
    else:
        counted = Count("customer_links", filter=Q(customer_links__customer__owner=user) if user.is_authenticated
                        else Q(pk__in=[]))
    return Tag.objects.annotate(customer_count=counted).order_by("slug")


def tag_links_for(customer: Customer) -> QuerySet[CustomerTag]:
    """The customer's tags with who added each and when, newest first."""
    return customer.tag_links.select_related("tag", "added_by").order_by("tag__slug")


# Other apps add their events to the timeline (campaigns: tasks and outcomes) without this app
# importing them: each registers a function (customer, user, limit) -> [event dict] in its
# AppConfig.ready().
TIMELINE_SOURCES: list[Callable[..., list[dict]]] = []


def register_timeline_source(source: Callable[..., list[dict]]) -> None:
    """Add a function that contributes (customer, user, limit) -> [event dict] to the customer timeline."""
    if source not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(source)


# Sections other apps add to the customer page (activity: holdings), the same way: a function
# (customer, user) -> {"template": name, **context} or None, registered in AppConfig.ready().
PAGE_SECTIONS: list[Callable[..., dict | None]] = []


def register_page_section(section: Callable[..., dict | None]) -> None:
    if section not in PAGE_SECTIONS:
        PAGE_SECTIONS.append(section)


# Panels other apps show under the customer list (scores: distributions of the listed customers),
# loaded after the page by htmx from the URL name given, with the list's filter query.
LIST_PANELS: list[str] = []


def register_list_panel(url_name: str) -> None:
    if url_name not in LIST_PANELS:
        LIST_PANELS.append(url_name)


# Panels about one customer that other apps fill (recommendations: the next best products), loaded by
# htmx from the URL name given (it takes the customer's pk) on the customer page and beside the call
# script in the work view.
CUSTOMER_PANELS: list[str] = []


def register_customer_panel(url_name: str) -> None:
    if url_name not in CUSTOMER_PANELS:
        CUSTOMER_PANELS.append(url_name)


def customer_page_sections(customer: Customer, user) -> list[dict]:
    return [found for section in PAGE_SECTIONS if (found := section(customer, user)) is not None]


def customer_timeline(customer: Customer, user=None, limit: int = 100) -> list[dict]:
    """What happened to this customer, newest first: tag changes, and what other apps add
    (tasks and outcomes the user may see)."""
    events = [
        {"at": change.at, "kind": "tag", "action": change.get_action_display(), "tag": change.tag_slug,
         "by": change.by, "source": change.get_source_display()}
        for change in TagChange.objects.filter(customer=customer).select_related("by")[:limit]
    ]
    if user is not None:
        for source in TIMELINE_SOURCES:
            events += source(customer, user, limit)
    return sorted(events, key=lambda event: event["at"], reverse=True)[:limit]
