"""Writes to job records. Progress is written outside the job's own data transaction."""

import logging
import os
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job

logger = logging.getLogger(__name__)

def enqueue(task_name: str, *args, job_id=None, **options) -> bool:
    """Send the Celery task of this name; if the broker is unreachable, say so on the job instead of failing.

    By name, so that services never import the jobs that call them (import-linter checks it).

    The web request that created the work still succeeds (its data is committed); the job stays
    pending with a note, and `requeue_pending_jobs` sends it again once the broker is back.
    Background work that has no job row (metrics refresh, result tags) is redone by the nightly
    recompute or on demand.
    """
    if task_name not in current_app.tasks:
        # Web processes discover the apps' jobs.py lazily (a worker does at start-up).
        current_app.loader.import_default_modules()
    task = current_app.tasks[task_name]  # NotRegistered for a name no jobs.py defines: a bug, not an outage
    try:
        task.apply_async(args, **options)
    except Exception as error:  # kombu raises OperationalError, redis-py ConnectionError, OSError…
        logger.warning("could not enqueue %s%s: %s", task_name, args, error)
        job = Job.objects.filter(pk=job_id, state=Job.State.PENDING).first() if job_id else None
        if job is not None:
            job.params = {**job.params, "unsent": True}
            job.stage = _("Delayed: the job queue is unreachable; it will be sent when it is back.")
            job.save(update_fields=["params", "stage"])
        return False
    if job_id is not None:
        Job.objects.filter(pk=job_id, params__unsent=True).update(stage="")
    return True


COALESCE_GRACE_S = 300


def enqueue_coalesced(task_name: str, *args, key: str, countdown: int, grace: int = COALESCE_GRACE_S) -> bool:
    """Enqueue the task to run in `countdown` seconds unless one is already waiting: a burst of
    writes (a thousand API batches) becomes one run. The task calls `coalesced_run_started(key)`
    first, so a write after that start queues the next run."""
    # The mark outlives the countdown by a few minutes only: if the message is lost (a broker restart,
    # a purged queue), the next write after that queues a run again instead of waiting an hour.
    if not cache.add(f"coalesced:{key}", 1, timeout=countdown + grace):
        return False
    sent = enqueue(task_name, *args, countdown=countdown)
    if not sent:
        cache.delete(f"coalesced:{key}")
    return sent


def coalesced_run_started(key: str) -> None:
    cache.delete(f"coalesced:{key}")


def requeue_unsent_jobs() -> int:
    """Send the jobs whose message never reached the broker (see `enqueue`), now that it answers.

    Only those: a pending job whose message is queued behind others must not be sent twice.
    """
    sent = 0
    for job in Job.objects.filter(state=Job.State.PENDING, params__unsent=True).exclude(task=""):
        if enqueue(job.task, str(job.pk), job_id=job.pk):
            job.params = {key: value for key, value in job.params.items() if key != "unsent"}
            job.save(update_fields=["params"])
            sent += 1
    return sent


def create_job(*, kind: str, task: str, by=None, params: dict | None = None) -> Job:
    """Record a job about to be enqueued (see queue_job); its task is called with the job's id."""
    return Job.objects.create(kind=kind, task=task, created_by=by, params=params or {})


def queue_job(*, kind: str, task: str, by=None, params: dict | None = None, total: int = 0) -> Job:
    """The one way work reaches a worker: a Job row now, its task enqueued once the caller commits.

    Every upload, launch and import goes through here, so each is tracked by `/api/v1/jobs/{id}/`,
    survives a broker outage (`requeue_unsent_jobs`) and runs only for committed data.
    """
    job = create_job(kind=kind, task=task, by=by, params=params)
    if total:
        report_progress(job_id=job.pk, processed=0, total=total)
    transaction.on_commit(lambda: enqueue(task, str(job.pk), job_id=job.pk))
    return job


def queue_upload_job(*, upload, folder: Path, allowed_suffixes, kind: str, task: str, by=None,
                     params: dict | None = None, refuse: type[Exception] = ValueError) -> Job:
    """Check an uploaded file (type, size), keep it as `<job id><suffix>` in folder, and queue the job that reads it.

    The one path from an upload to a worker (customer and history imports): a refused file raises
    `refuse` with a readable message and stores nothing.
    """
    suffix = checked_upload_suffix(upload, allowed_suffixes, refuse)
    with transaction.atomic():
        job = queue_job(kind=kind, task=task, by=by, params={"file_name": upload.name, **(params or {}), "suffix": suffix})
        store_upload(upload, folder / f"{job.pk}{suffix}")
    return job


def queue_file_job(*, path: Path, folder: Path, kind: str, task: str, by=None, params: dict | None = None) -> Job:
    """queue_upload_job for a file already on disk (commands, seed, a wizard's staged upload): the job's
    copy is `<job id><suffix>` in folder, readable by the service only, as every upload."""
    path = Path(path)
    params = dict(params or {})
    params["file_name"] = params.get("file_name") or path.name
    with transaction.atomic():
        job = queue_job(kind=kind, task=task, by=by, params={**params, "suffix": path.suffix.lower()})
        target = folder / f"{job.pk}{path.suffix.lower()}"
        shutil.copyfile(path, target)
        target.chmod(0o600)
    return job


def run_file_job(*, job_id, folder: Path, read: Callable, refused: type[Exception]) -> dict:
    """Run a job that reads its stored file: `read(job, path, progress)` returns a report with
    `as_result()` and `errors`. A redelivered job that already finished returns its result; `refused`
    (the file as a whole) fails the job with its message; a lost database retries (the job's task
    retries OperationalError; nothing was written); anything else fails the job, is logged and raised."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    start_job(job_id=job_id, stage=_("Reading the file"))
    path = folder / f"{job.pk}{job.params.get('suffix', '.csv')}"

    def progress(done: int, total: int, stage: str) -> None:
        report_progress(job_id=job_id, processed=done, total=total or None, stage=stage)

    try:
        report = read(job, path, progress)
    except refused as error:
        fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": str(error)}])
        path.unlink(missing_ok=True)
        return {}
    except OperationalError:
        raise
    except Exception:
        logger.exception("%s %s failed", job.kind, job_id)
        fail_job(job_id=job_id, errors=[{"row": None, "column": None, "value": "", "message": _(
            "The import stopped on an unexpected error and wrote nothing. The error is logged; please tell an admin.")}])
        raise
    finish_job(job_id=job_id, result=report.as_result(), errors=report.errors)
    path.unlink(missing_ok=True)  # the result and the row errors are kept on the job
    return report.as_result()


def checked_upload_suffix(upload, allowed_suffixes, refuse: type[Exception] = ValueError) -> str:
    """The upload's suffix, after checking its type and size (IMPORT_MAX_UPLOAD_MB) for every way in."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in allowed_suffixes:
        raise refuse(_("Upload a CSV or XLSX file (got “%(suffix)s”).") % {"suffix": suffix or "?"})
    if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise refuse(_("The file is larger than %(mb)d MB.") % {"mb": settings.IMPORT_MAX_UPLOAD_BYTES // 2**20})
    return suffix


def store_upload(upload, path: Path) -> None:
    """Write an upload where only this service account can read it (files hold personal data)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)


def start_job(*, job_id, stage: str = "", total: int = 0) -> Job:
    """Mark a job running (again, when a redelivered message picks it up)."""
    Job.objects.filter(pk=job_id).update(
        state=Job.State.RUNNING, stage=stage, total=total, processed=0,
        started_at=timezone.now(), attempts=F("attempts") + 1,
    )
    return Job.objects.get(pk=job_id)


def report_progress(*, job_id, processed: int, total: int | None = None, stage: str | None = None):
    """Update the progress bar; cheap enough to call every few thousand rows."""
    fields = {"processed": processed}
    if total is not None:
        fields["total"] = total
    if stage is not None:
        fields["stage"] = stage
    Job.objects.filter(pk=job_id).update(**fields)


def finish_job(*, job_id, result: dict, errors: list | None = None) -> None:
    """Mark a job succeeded with its result (and any row-level errors it reported).

    A finished job has processed all it counted: processed = total, whichever way the job
    reported its progress (a launch writes its tasks in one statement and reports none between).
    """
    Job.objects.filter(pk=job_id).update(
        state=Job.State.SUCCEEDED, result=result, errors=errors or [], stage="",
        processed=Greatest(F("processed"), F("total")), finished_at=timezone.now(),
    )


def fail_job(*, job_id, errors: list, result: dict | None = None) -> None:
    """Mark a job failed with readable errors; nothing it was writing was kept."""
    Job.objects.filter(pk=job_id).update(
        state=Job.State.FAILED, errors=errors, result=result or {}, stage="",
        finished_at=timezone.now(),
    )


@transaction.atomic
def expire_stale_jobs(*, older_than: timedelta = timedelta(hours=3)) -> int:
    """Fail jobs stuck running past every time limit (their worker died for good)."""
    cutoff = timezone.now() - older_than
    return Job.objects.filter(state=Job.State.RUNNING, started_at__lt=cutoff).update(
        state=Job.State.FAILED,
        errors=[{"message": _("The job stopped without finishing; please run it again.")}],
        finished_at=timezone.now(),
    )


def purge_stale_uploads(*, older_than_hours: int = 24) -> int:
    """Delete uploaded files older than this under MEDIA_ROOT unless a job still to run reads them:
    files of finished (also failed) jobs, and wizard uploads never imported. Uploads hold personal
    data; a failed one used to stay forever."""
    import uuid

    cutoff = time.time() - older_than_hours * 3600
    root = Path(settings.MEDIA_ROOT)
    old = [path for path in root.rglob("*") if path.is_file() and path.stat().st_mtime < cutoff] if root.exists() else []
    job_ids = {}
    for path in old:
        try:
            job_ids[path] = uuid.UUID(path.stem)
        except ValueError:
            continue
    waiting = {str(pk) for pk in Job.objects.filter(pk__in=set(job_ids.values()))
               .exclude(state__in=[Job.State.SUCCEEDED, Job.State.FAILED]).values_list("pk", flat=True)}
    removed = 0
    for path in old:
        if path in job_ids and str(job_ids[path]) in waiting:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed
