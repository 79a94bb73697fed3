"""Writes of activity: imports from files (command, upload job) and batches from the API — one engine."""

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import services as job_services
from core.models import Job
from customers.importing import ImportFileError, read_table

from . import selectors
from .ingest import KINDS, IngestReport, ingest, items_frame, mapped_frame
from .models import DormancyGoal, DormancySnapshot

IMPORT_KIND = "import_activity"
IMPORT_TASK = "activity.jobs.import_activity"
ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
MAX_BATCH_ITEMS = 1000


def import_file(path: str | Path, *, kind: str, mapping=None, delimiter: str | None = None,
                encoding: str | None = None) -> IngestReport:
    """Import a products, holdings, transactions or events file; ImportFileError for the file as a whole."""
    if kind not in KINDS:
        raise ImportFileError(_("Unknown kind %(kind)s; kinds are: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)})
    frame = read_table(path, delimiter=delimiter, encoding=encoding)
    mapped, ignored = mapped_frame(frame, kind, mapping)
    report = ingest(kind, mapped)
    report.ignored_columns = ignored
    return report


def ingest_batch(kind: str, items) -> IngestReport:
    """A batch API's items (DESIGN.md: ≤ 1,000 of them); ValueError when the batch itself is wrong."""
    if not isinstance(items, list) or not items:
        raise ValueError(_("“items” must be a non-empty list."))
    if len(items) > MAX_BATCH_ITEMS:
        raise ValueError(_("At most %(n)d items per request (got %(count)d); send several requests.")
                         % {"n": MAX_BATCH_ITEMS, "count": len(items)})
    if not all(isinstance(item, dict) for item in items):
        raise ValueError(_("Every item must be an object."))
    return ingest(kind, items_frame(items, kind), every_error=True)


def check_preview(kind: str, frame, mapping) -> IngestReport:
    """The engine's verdict on the first rows of a file, writing nothing (the wizard's preview)."""
    mapped, ignored = mapped_frame(frame, kind, mapping)
    with transaction.atomic():
        report = ingest(kind, mapped)
        transaction.set_rollback(True)
    report.ignored_columns = ignored
    return report


def import_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "activity-imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def queue_import(*, upload, kind: str, by, mapping=None, delimiter: str | None = None,
                 encoding: str | None = None) -> Job:
    """Store an uploaded activity file and enqueue its import once the job row is committed."""
    if kind not in KINDS:
        raise ImportFileError(_("Unknown kind %(kind)s; kinds are: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)})
    return job_services.queue_upload_job(
        upload=upload, folder=import_folder(), allowed_suffixes=ALLOWED_SUFFIXES, kind=IMPORT_KIND, task=IMPORT_TASK,
        by=by, params={"kind": kind, "mapping": mapping, "delimiter": delimiter, "encoding": encoding},
        refuse=ImportFileError)


def queue_import_of_path(*, path: Path, kind: str, by, mapping=None, delimiter: str | None = None,
                         encoding: str | None = None, file_name: str | None = None) -> Job:
    """queue_import for a file already on disk (the wizard's staged upload, kept under its own name)."""
    return job_services.queue_file_job(path=path, folder=import_folder(), kind=IMPORT_KIND, task=IMPORT_TASK, by=by,
                                       params={"kind": kind, "file_name": file_name, "mapping": mapping,
                                               "delimiter": delimiter, "encoding": encoding})


def run_import(*, job_id: str) -> dict:
    """Run a queued activity import (core.services.run_file_job). Re-running one that was killed half-way
    is safe: nothing of it was committed (one transaction), and what another run committed comes back as
    duplicates."""
    def read(job, path, progress):
        return import_file(path, kind=job.params["kind"], mapping=job.params.get("mapping"),
                           delimiter=job.params.get("delimiter"), encoding=job.params.get("encoding"))

    return job_services.run_file_job(job_id=job_id, folder=import_folder(), read=read, refused=ImportFileError)


def save_product(*, product, **values):
    """Create or edit a product (the API and the admin's form checks ran before)."""
    for name, value in values.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    return product


# --- dormancy ------------------------------------------------------------------------------------

def set_dormancy_goal(*, by, target_share, dormant_days: int) -> DormancyGoal:
    """A new goal (kept with the earlier ones); shares under a new definition are recomputed."""
    goal = DormancyGoal(target_share=target_share, dormant_days=dormant_days, by=by)
    goal.full_clean()
    goal.save()
    transaction.on_commit(lambda: job_services.enqueue("activity.jobs.record_dormancy"))
    return goal


def record_dormancy(*, day: date | None = None, weeks_back: int = 12) -> int:
    """Record the dormant share at the end of `day` (default: yesterday), and at the end of each of the
    `weeks_back` weeks before it that has no record yet under the current definition (the first run
    fills the chart from the transactions). Returns how many days were recorded."""
    days = selectors.dormant_days()
    day = day or timezone.localdate() - timedelta(days=1)
    wanted = [day - timedelta(weeks=week) for week in range(weeks_back + 1)]
    have = set(DormancySnapshot.objects.filter(dormant_days=days, day__in=wanted).values_list("day", flat=True))
    recorded = 0
    for each in wanted:
        if each in have and each != day:
            continue
        customers, dormant = selectors.dormant_counts(each, days)
        DormancySnapshot.objects.update_or_create(day=each, dormant_days=days,
                                                  defaults={"customers": customers, "dormant": dormant})
        recorded += 1
    return recorded
