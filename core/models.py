"""Background job records: what pages and the API read while a Celery job runs."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class Job(models.Model):
    """One run of a background job (import, launch, …), its progress and its outcome.

    Kept in the database, not the broker, so that any web process can report on it and a
    redelivered message finds the work it already did.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    # The Celery task that runs it, by name: what `requeue_unsent_jobs` sends again.
    task = models.CharField(_("task"), max_length=120, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    stage = models.CharField(_("stage"), max_length=80, blank=True)
    processed = models.PositiveBigIntegerField(_("processed"), default=0)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    @property
    def progress(self) -> float:
        """Share of the work done, 0.0–1.0; a finished job is complete whatever it counted."""
        if self.state in (self.State.SUCCEEDED, self.State.FAILED):
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.processed / self.total)

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def state_label(self) -> str:
        """The state as people read it: an import that rejected rows did not simply "succeed"."""
        rejected = (self.result or {}).get("rejected") if isinstance(self.result, dict) else None
        if self.state == self.State.SUCCEEDED and rejected:
            return ngettext("Finished with %(count)d rejected row", "Finished with %(count)d rejected rows",
                            rejected) % {"count": rejected}
        return self.get_state_display()
