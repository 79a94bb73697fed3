"""Table pages (django-tables2) configured from the request within bounds.

`?per_page=` comes from the user: unbounded it let one request page a whole table (a huge value ran
a worker for a minute) or answer 500 (a negative one). Every table page goes through here.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger
from django_tables2 import RequestConfig

MAX_PER_PAGE = 200


def page_size(asked, default: int) -> int:
    """The asked page size within 1..MAX_PER_PAGE; the default when it is not a number."""
    try:
        return min(max(int(asked), 1), MAX_PER_PAGE)
    except (TypeError, ValueError):
        return default


def configure_table(request, table, *, per_page: int):
    """Ordering from the request (as RequestConfig does), then one page of a bounded size; a page
    number out of range shows the last page, one that is not a number the first."""
    RequestConfig(request, paginate=False).configure(table)
    size = page_size(request.GET.get(table.prefixed_per_page_field), per_page)
    try:
        table.paginate(page=request.GET.get(table.prefixed_page_field, 1), per_page=size)
    except PageNotAnInteger:
        table.page = table.paginator.page(1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)
    return table
