"""Exports too large to answer inside a request, written whole by a job and downloaded when complete.

An export streamed inside a request can be cut off without anyone noticing: an 800,985-member
segment export streamed past gunicorn's 60 s timeout and the client got HTTP 200 with 772,109 rows
and no error. Above EXPORT_INLINE_MAX_ROWS every export (a segment's members, the customer list, a
campaign's tasks) is a job: the file is complete, or the job says it failed and no file is kept.

The apps above register what they export by name: a function (job) -> (header, rows) that reads
job.params and answers as job.created_by may see (core does not know their models).
"""

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from . import services
from .exports import csv_lines, xlsx_write
from .models import Job

logger = logging.getLogger(__name__)
EXPORT_KIND = "export"
PROGRESS_EVERY = 20_000
_SOURCES: dict[str, Callable[[Job], tuple[Sequence[str], Iterable[Sequence]]]] = {}


def register_export(name: str, source: Callable[[Job], tuple[Sequence[str], Iterable[Sequence]]]) -> None:
    _SOURCES[name] = source


def fits_inline(count: int) -> bool:
    """Whether an export of this many rows may stream inside the request."""
    return count <= settings.EXPORT_INLINE_MAX_ROWS


def queue_export(*, name: str, by, total: int, file_name: str, title: str, params: dict | None = None) -> Job:
    """A job writing the export `name` (registered) to a file named file_name (.csv or .xlsx)."""
    if name not in _SOURCES:
        raise KeyError(name)
    return services.queue_job(kind=EXPORT_KIND, task="core.jobs.write_export", by=by, total=total,
                              params={"export": name, "file_name": file_name, "title": title, **(params or {})})


def export_folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def export_path(job: Job) -> Path:
    return export_folder() / f"{job.pk}{Path(job.params.get('file_name', '.csv')).suffix or '.csv'}"


def run_export(*, job_id: str) -> dict:
    """Write every row to the job's file (as of when the job runs), then mark the job done with the
    count; on any error the partial file is removed and the job fails saying so."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job.result
    services.start_job(job_id=job_id, stage=_("Writing the rows"))
    path = export_path(job)
    try:
        header, rows = _SOURCES[job.params["export"]](job)
        counted = _counting(rows, job_id)
        if path.suffix == ".xlsx":
            xlsx_write(path, {job.params.get("title", "")[:31] or _("Export"): (header, counted)})
            os.chmod(path, 0o600)  # openpyxl creates it with the process umask
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as target:
                target.writelines(csv_lines([str(name) for name in header], counted))
    except Exception:
        logger.exception("export %s failed", job_id)
        path.unlink(missing_ok=True)
        services.fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": _(
            "The export stopped on an error and no file was kept; please try again. The error is logged.")}])
        raise
    result = {"rows": counted.written, "file_name": job.params["file_name"]}
    services.finish_job(job_id=job_id, result=result)
    return result


class _counting:
    """The rows, counted as they are written, with the job's progress every PROGRESS_EVERY."""

    def __init__(self, rows: Iterable[Sequence], job_id: str):
        self.rows, self.job_id, self.written = rows, job_id, 0

    def __iter__(self):
        for row in self.rows:
            yield row
            self.written += 1
            if self.written % PROGRESS_EVERY == 0:
                services.report_progress(job_id=self.job_id, processed=self.written)
