"""Pages every app shares: the status and download of an export written by a job (core.export_jobs)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from .export_jobs import EXPORT_KIND, export_path
from .exports import XLSX_CONTENT_TYPE
from .selectors import jobs_visible_to


@login_required
def export_status(request, job_id):
    """Progress of one's own export (404 for anyone else's), then its download link."""
    job = get_object_or_404(jobs_visible_to(request.user, EXPORT_KIND), pk=job_id)
    template = "core/_export_progress.html" if request.htmx else "core/export_status.html"
    return render(request, template, {"job": job})


@login_required
def export_download(request, job_id):
    """The written file, once its job has succeeded (until the daily purge removes it)."""
    job = get_object_or_404(jobs_visible_to(request.user, EXPORT_KIND), pk=job_id)
    path = export_path(job)
    if job.state != job.State.SUCCEEDED or not path.exists():
        messages.error(request, _("This export is not ready, or was removed after a day; export again."))
        return redirect("core:export_status", job_id=job.pk)
    content_type = XLSX_CONTENT_TYPE if path.suffix == ".xlsx" else "text/csv; charset=utf-8"
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.params.get("file_name", path.name),
                        content_type=content_type)
