"""Writes of activity: imports from files (command, upload job) and batches from the API — one engine."""

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils.translation import gettext as _

from core import services as job_services
from core.models import Job
from customers.importing import ImportFileError, read_table

from .ingest import KINDS, IngestReport, ingest, items_frame, mapped_frame

logger = logging.getLogger(__name__)
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
    with transaction.atomic():
        job = job_services.queue_job(kind=IMPORT_KIND, task=IMPORT_TASK, by=by, params={
            "kind": kind, "file_name": file_name or path.name, "mapping": mapping, "delimiter": delimiter,
            "encoding": encoding, "suffix": path.suffix.lower()})
        target = import_folder() / f"{job.pk}{path.suffix.lower()}"
        shutil.copyfile(path, target)
        target.chmod(0o600)
    return job


def run_import(*, job_id: str) -> dict:
    """Run a queued activity import; a redelivered job that already finished returns its result.

    Re-running one that was killed half-way is safe: nothing of it was committed (one transaction),
    and what another run committed comes back as duplicates."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    job_services.start_job(job_id=job_id, stage=_("Reading the file"))
    path = import_folder() / f"{job.pk}{job.params.get('suffix', '.csv')}"
    try:
        report = import_file(path, kind=job.params["kind"], mapping=job.params.get("mapping"),
                             delimiter=job.params.get("delimiter"), encoding=job.params.get("encoding"))
    except ImportFileError as error:
        job_services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": str(error)}])
        path.unlink(missing_ok=True)
        return {}
    except OperationalError:
        raise  # the database went away: the job retries (activity.jobs), nothing was written
    except Exception:
        logger.exception("activity import %s failed", job_id)
        job_services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": _(
            "The import stopped on an unexpected error and wrote nothing. The error is logged; please tell an admin.")}])
        raise
    job_services.finish_job(job_id=job_id, result=report.as_result(), errors=report.errors)
    path.unlink(missing_ok=True)
    return report.as_result()


def save_product(*, product, **values):
    """Create or edit a product (the API and the admin's form checks ran before)."""
    for name, value in values.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    return product
