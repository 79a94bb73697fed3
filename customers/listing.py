"""The customer list (page and API) answered from an id index when one is ready, else by SQL.

At 1M customers the SQL list cost 300 ms to 2.3 s a page (a COUNT(*) over the filter, EXISTS per tag,
OFFSET walking rows). The segments app keeps every customer's tags and attributes as bitmaps and
registers them here (customers sits below segments): the filter becomes a bitmap, its length the exact
count, and a page is 50 ids picked by rank in the chosen order, then one query for those 50 rows.
Whatever the index cannot answer — no index built yet in this process, a sort by a text column — goes
the SQL way, with the same results (tests/customers/test_listing.py compares the two).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db.models import QuerySet
from pyroaring import BitMap

from accounts.roles import is_manager

from .filters import search_ids
from .models import Customer

# The table's and the API's order accessors an index can serve, by the key it sorts on.
INDEX_ORDERS = {"id": "id", "pk": "id", "assets": "assets", "branch__code": "branch", "owner__username": "owner",
                "lifecycle_stage": "lifecycle_stage", "risk_level": "risk_level"}


@dataclass(frozen=True)
class ListCriteria:
    """What the list filter asks, in index terms (ids, not objects)."""

    tag_ids: tuple[int, ...] = ()
    branch_id: int | None = None
    owner_id: int | None = None
    lifecycle_stage: str | None = None
    risk_level: int | None = None
    assets_min: Decimal | None = None
    assets_max: Decimal | None = None
    search_ids: tuple[int, ...] | None = None  # whom the search text matches (None: no search)
    visible_to_owner: int | None = None  # an account manager sees her own customers only


class IndexedIds(Protocol):
    members: BitMap

    def ordered(self, key: str, descending: bool, offset: int, limit: int) -> list[int]:
        """`limit` ids of `members` from rank `offset` in the order of `key` (one of INDEX_ORDERS' values)."""


class IdIndex(Protocol):
    def matching(self, criteria: ListCriteria) -> IndexedIds | None:
        """The customers matching, or None when the index cannot answer now (not built yet)."""


_index: IdIndex | None = None


def register_id_index(index: IdIndex) -> None:
    global _index
    _index = index


def criteria_from(cleaned: dict, user) -> ListCriteria:
    """ListCriteria from CustomerFilter's cleaned data (a search is looked up here, by its indexes)."""
    search = (cleaned.get("search") or "").strip()
    return ListCriteria(
        tag_ids=tuple(sorted(tag.pk for tag in cleaned.get("tag") or ())),
        branch_id=cleaned["branch"].pk if cleaned.get("branch") else None,
        owner_id=cleaned["owner"].pk if cleaned.get("owner") else None,
        lifecycle_stage=cleaned.get("lifecycle_stage") or None,
        risk_level=int(cleaned["risk_level"]) if cleaned.get("risk_level") is not None else None,
        assets_min=cleaned.get("assets_min"), assets_max=cleaned.get("assets_max"),
        search_ids=tuple(search_ids(search)) if search else None,
        visible_to_owner=None if is_manager(user) else user.pk,
    )


class IndexedCustomers:
    """A queryset-like list of customers (count, order_by, slicing) whose ids come from the index.

    django-tables2 and DRF's paginator take it as they take a QuerySet. An order the index does not
    serve hands over to `fallback`, the same filter in SQL.
    """

    model = Customer
    ordered = True

    def __init__(self, answer: IndexedIds, fallback: QuerySet, *, key: str = "id", descending: bool = False,
                 with_tags: bool = False):
        self.answer, self.members, self.fallback = answer, answer.members, fallback
        self.key, self.descending, self.with_tags = key, descending, with_tags

    def count(self) -> int:
        return len(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def order_by(self, *accessors: str):
        if not accessors:
            return self
        if len(accessors) > 1 or accessors[0].lstrip("-") not in INDEX_ORDERS:
            return self.fallback.order_by(*accessors)
        accessor = accessors[0]
        return IndexedCustomers(self.answer, self.fallback, key=INDEX_ORDERS[accessor.lstrip("-")],
                                descending=accessor.startswith("-"), with_tags=self.with_tags)

    def __getitem__(self, item):
        if isinstance(item, int):
            rows = self[item:item + 1]
            if not rows:
                raise IndexError(item)
            return rows[0]
        start, stop = item.start or 0, len(self.members) if item.stop is None else item.stop
        if item.step not in (None, 1) or start < 0 or stop < 0:
            raise ValueError("IndexedCustomers takes plain forward slices")
        stop = min(stop, len(self.members))
        ids = self.answer.ordered(self.key, self.descending, start, max(0, stop - start))
        customers = Customer.objects.select_related("branch", "owner")
        if self.with_tags:
            customers = customers.prefetch_related("tag_links__tag")
        found = customers.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]

    def __iter__(self):
        step = 2000
        for start in range(0, len(self.members), step):
            yield from self[start:start + step]


def listed_customers(customer_filter, user, *, with_tags: bool = False):
    """The customers a valid CustomerFilter selects, for a page: IndexedCustomers when the index can
    answer, else the filter's own queryset (ordered by id)."""
    fallback = customer_filter.qs.order_by("id")
    if with_tags:
        fallback = fallback.prefetch_related("tag_links__tag")
    if _index is None or not customer_filter.is_bound:
        return fallback
    if not customer_filter.form.is_valid():
        return fallback  # nobody (CustomerFilter.qs): the form shows the invalid value
    answer = _index.matching(criteria_from(customer_filter.form.cleaned_data, user))
    if answer is None:
        return fallback
    return IndexedCustomers(answer, fallback, with_tags=with_tags)
