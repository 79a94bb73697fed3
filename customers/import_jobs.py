"""Queue an uploaded customer file for import, and run it in a worker."""

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils.translation import gettext as _

from core import services as job_services
from core.models import Job

from .importing import ImportFileError, import_customers

logger = logging.getLogger(__name__)
IMPORT_KIND = "import_customers"
IMPORT_TASK = "customers.jobs.import_customers"
ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def import_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def queue_import(*, upload, by, mapping=None, delimiter: str | None = None, encoding: str | None = None) -> Job:
    """Store an uploaded file and enqueue its import once the job row is committed."""
    return job_services.queue_upload_job(
        upload=upload, folder=import_folder(), allowed_suffixes=ALLOWED_SUFFIXES, kind=IMPORT_KIND, task=IMPORT_TASK,
        by=by, params={"mapping": mapping, "delimiter": delimiter, "encoding": encoding}, refuse=ImportFileError)


def queue_import_of_path(*, path: str | Path, by, mapping=None, delimiter: str | None = None,
                         encoding: str | None = None, file_name: str | None = None) -> Job:
    """Same as queue_import for a file already on disk (management commands, seed, the wizard's staged
    upload — which passes the name the file had on the user's machine)."""
    path = Path(path)
    with transaction.atomic():
        job = job_services.queue_job(kind=IMPORT_KIND, task=IMPORT_TASK, by=by, params={
            "file_name": file_name or path.name, "mapping": mapping, "delimiter": delimiter, "encoding": encoding,
            "suffix": path.suffix.lower(),
        })
        target = import_folder() / f"{job.pk}{path.suffix.lower()}"
        shutil.copyfile(path, target)
        target.chmod(0o600)  # personal data: readable by the service only, as every upload
    return job


def run_import(*, job_id: str) -> dict:
    """Run a queued import; a redelivered job that already finished returns its result."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    job_services.start_job(job_id=job_id, stage=_("Reading the file"))
    path = import_folder() / f"{job.pk}{job.params.get('suffix', '.csv')}"

    def progress(done: int, total: int, stage: str) -> None:
        job_services.report_progress(job_id=job_id, processed=done, total=total or None, stage=stage)

    try:
        report = import_customers(path, mapping=job.params.get("mapping"), delimiter=job.params.get("delimiter"),
                                  encoding=job.params.get("encoding"), by=job.created_by, progress=progress)
    except ImportFileError as error:
        job_services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": str(error)}])
        path.unlink(missing_ok=True)
        return {}
    except OperationalError:
        raise  # the database went away: the job retries (customers.jobs), nothing was written
    except Exception:
        logger.exception("import %s failed", job_id)
        job_services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": _(
            "The import stopped on an unexpected error and wrote nothing. The error is logged; please tell an admin.")}])
        raise
    job_services.finish_job(job_id=job_id, result=report.as_result(), errors=report.errors)
    path.unlink(missing_ok=True)  # the result and the row errors are kept on the job
    return report.as_result()


def purge_stale_uploads(*, older_than_hours: int = 24) -> int:
    """Delete uploads left behind: wizard files never imported, and files of finished or failed
    jobs (customer and history imports alike; core.services does it for every upload folder)."""
    return job_services.purge_stale_uploads(older_than_hours=older_than_hours)
