"""Queue an uploaded customer file for import, and run it in a worker."""

from pathlib import Path

from django.conf import settings

from core import services as job_services
from core.models import Job

from .importing import ImportFileError, import_customers

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
    return job_services.queue_file_job(path=path, folder=import_folder(), kind=IMPORT_KIND, task=IMPORT_TASK, by=by,
                                       params={"file_name": file_name, "mapping": mapping, "delimiter": delimiter,
                                               "encoding": encoding})


def run_import(*, job_id: str) -> dict:
    """Run a queued import (core.services.run_file_job: a redelivered finished job returns its result)."""
    def read(job, path, progress):
        return import_customers(path, mapping=job.params.get("mapping"), delimiter=job.params.get("delimiter"),
                                encoding=job.params.get("encoding"), by=job.created_by, progress=progress)

    return job_services.run_file_job(job_id=job_id, folder=import_folder(), read=read, refused=ImportFileError)


def purge_stale_uploads(*, older_than_hours: int = 24) -> int:
    """Delete uploads left behind: wizard files never imported, and files of finished or failed
    jobs (customer and history imports alike; core.services does it for every upload folder)."""
    return job_services.purge_stale_uploads(older_than_hours=older_than_hours)
