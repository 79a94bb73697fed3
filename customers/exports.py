"""The customer list as a file: streamed inside the request when small, else a job (core.export_jobs)
that writes every row the user's filter selects before anything can be downloaded."""

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.translation import gettext as _

from core import export_jobs

from .filters import CustomerFilter
from .selectors import customers_visible_to

EXPORT_NAME = "customers"
COLUMNS = ["external_id", "name", "phone", "email", "gender", "birth_date", "branch__code", "owner__username",
           "assets", "risk_level", "lifecycle_stage"]


def customer_rows(customer_filter: CustomerFilter):
    """(header, rows) of the customers a filter selects, in id order, fetched in chunks."""
    header = [_("External id"), _("Name"), _("Phone"), _("Email"), _("Gender"), _("Birth date"), _("Branch"),
              _("Account manager"), _("Assets"), _("Risk level"), _("Lifecycle stage")]
    return header, customer_filter.qs.order_by("id").values_list(*COLUMNS).iterator(chunk_size=5000)


def queue_customer_export(*, query: QueryDict, by, count: int, workbook: bool):
    return export_jobs.queue_export(name=EXPORT_NAME, by=by, total=count,
                                    file_name="customers.xlsx" if workbook else "customers.csv",
                                    title=_("Customers"), params={"query": query.urlencode()})


def export_rows(job):
    """The rows as the user who asked may see them, filtered as she filtered, as of now."""
    user = job.created_by
    if user is None or not user.is_active:
        raise PermissionDenied("the user who asked for this export is gone")
    return customer_rows(CustomerFilter(QueryDict(job.params["query"]), queryset=customers_visible_to(user)))
