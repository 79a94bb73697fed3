"""Segment member exports: small ones stream at once; large ones are written whole by a job
(core.export_jobs) and downloaded when complete — never silently short."""

from django.utils.translation import gettext_lazy
from pyroaring import BitMap

from core import export_jobs

from . import services
from .models import Segment
from .selectors import members_page

EXPORT_NAME = "segment"
HEADER = [gettext_lazy("External id"), gettext_lazy("Name"), gettext_lazy("Phone"), gettext_lazy("Email"),
          gettext_lazy("Branch"), gettext_lazy("Account manager"), gettext_lazy("Assets"),
          gettext_lazy("Lifecycle stage")]
PAGE = 2000


def member_rows(bitmap: BitMap):
    """The members as export rows, a page of customers per query."""
    for offset in range(0, len(bitmap), PAGE):
        for customer in members_page(bitmap, offset=offset, limit=PAGE):
            yield [customer.external_id, customer.name, customer.phone, customer.email,
                   customer.branch.code if customer.branch else "", customer.owner.username if customer.owner else "",
                   customer.assets, customer.lifecycle_stage]


def queue_segment_export(*, segment: Segment, by, count: int):
    return export_jobs.queue_export(name=EXPORT_NAME, by=by, total=count, file_name=f"segment-{segment.pk}.csv",
                                    title=segment.name, params={"segment_id": segment.pk})


def segment_rows(job):
    """Every member as of when the job runs (a manager's export: segments are for managers)."""
    bitmap = services.segment_audience(Segment.objects.get(pk=job.params["segment_id"])).bitmap
    return [str(name) for name in HEADER], member_rows(bitmap)
