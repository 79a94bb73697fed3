"""Writes of activity: imports from files (command, upload job) and batches from the API — one engine."""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import services as job_services
from core.models import Job
from customers.importing import ImportFileError, read_table

from .ingest import KINDS, IngestReport, ingest, items_frame, mapped_frame

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
