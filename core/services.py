"""Writes to job records. Progress is written outside the job's own data transaction."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job


def create_job(*, kind: str, by=None, params: dict | None = None) -> Job:
    """Record a job about to be enqueued; the caller enqueues it on commit."""
    return Job.objects.create(kind=kind, created_by=by, params=params or {})


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
    """Mark a job succeeded with its result (and any row-level errors it reported)."""
    Job.objects.filter(pk=job_id).update(
        state=Job.State.SUCCEEDED, result=result, errors=errors or [], stage="",
        finished_at=timezone.now(),
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
