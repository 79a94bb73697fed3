"""Reads of job records."""

from django.db.models import QuerySet

from .models import Job


def jobs_visible_to(user, kind: str | None = None) -> QuerySet[Job]:
    """The jobs a user may follow: their own; an admin (a superuser, accounts.roles) every one.
    Every job page and the jobs API read through here (a history-import page once did not)."""
    jobs = Job.objects.all() if kind is None else Job.objects.filter(kind=kind)
    if user.is_superuser:
        return jobs
    return jobs.filter(created_by=user) if user.is_authenticated else jobs.none()
