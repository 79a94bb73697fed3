"""Product pages (the catalogue, one product's holders and buyers over time) and the activity import wizard."""

import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import manager_required
from core.exports import row_errors_response
from core.models import Job
from core.selectors import jobs_visible_to
from core.services import checked_upload_suffix, store_upload
from customers.importing import ImportFileError, read_table

from .forms import KIND_LABELS, ActivityMappingForm, ActivityUploadForm
from .ingest import default_target
from .models import Product
from .selectors import holders_per_product, product_figures
from .services import ALLOWED_SUFFIXES, IMPORT_KIND, check_preview, import_folder, queue_import_of_path


@login_required
def product_list(request):
    holders = holders_per_product(request.user)
    products = [(product, holders.get(product.pk, 0)) for product in Product.objects.all()]
    return render(request, "activity/product_list.html", {"products": products})


@login_required
def product_detail(request, code):
    product = get_object_or_404(Product, code=code)
    return render(request, "activity/product_detail.html", {"product": product, **product_figures(product, request.user)})


# --- import wizard: upload → map columns with a checked preview → job with its row-error report ----

STAGED_SESSION_KEY = "staged_activity_imports"


def _staged_path(token: str, suffix: str) -> Path:
    folder = import_folder() / "staged"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{token}{suffix}"


@manager_required
def import_upload(request):
    token = request.POST.get("token") or request.GET.get("token")
    if token:
        return _import_mapping(request, token)
    form = ActivityUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            suffix = checked_upload_suffix(upload, ALLOWED_SUFFIXES, ImportFileError)
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            token = uuid.uuid4().hex
            store_upload(upload, _staged_path(token, suffix))
            staged = request.session.get(STAGED_SESSION_KEY, {})
            staged[token] = {"suffix": suffix, "name": upload.name, "kind": form.cleaned_data["kind"],
                             "delimiter": form.cleaned_data["delimiter"] or None,
                             "encoding": form.cleaned_data["encoding"] or None}
            request.session[STAGED_SESSION_KEY] = staged
            return redirect(reverse("activity:import") + f"?token={token}")
    recent = Job.objects.filter(kind=IMPORT_KIND, created_by=request.user)[:10]
    return render(request, "activity/import_upload.html", {"form": form, "recent": recent})


def _import_mapping(request, token):
    staged = request.session.get(STAGED_SESSION_KEY, {}).get(token)
    if staged is None:
        raise Http404
    path, kind = _staged_path(token, staged["suffix"]), staged["kind"]
    try:
        frame = read_table(path, delimiter=staged["delimiter"], encoding=staged["encoding"], preview_rows=10)
    except (ImportFileError, FileNotFoundError) as error:
        messages.error(request, str(error) if isinstance(error, ImportFileError)
                       else _("The uploaded file has expired; upload it again."))
        path.unlink(missing_ok=True)
        return redirect("activity:import")
    headers = list(frame.columns)
    form = ActivityMappingForm(request.POST or None, kind=kind, headers=headers,
                               initial_mapping={header: default_target(kind, header) for header in headers})
    preview, problem = None, None
    mapping = form.mapping() if form.is_valid() else {"columns": {h: default_target(kind, h) for h in headers}}
    try:
        preview = check_preview(kind, frame, mapping)
    except ImportFileError as error:
        problem = str(error)
    if request.method == "POST" and form.is_valid() and problem is None and request.POST.get("confirm"):
        job = queue_import_of_path(path=path, kind=kind, by=request.user, mapping=mapping,
                                   delimiter=staged["delimiter"], encoding=staged["encoding"], file_name=staged["name"])
        path.unlink(missing_ok=True)
        return redirect("activity:import_status", job_id=job.pk)
    return render(request, "activity/import_mapping.html", {
        "form": form, "token": token, "file_name": staged["name"], "kind": KIND_LABELS[kind], "problem": problem,
        "preview": preview, "preview_header": headers, "preview_rows": frame.head(10).values.tolist(),
        "fields": [form[f"col_{index}"] for index in range(len(headers))],
    })


def _own_import_job(request, job_id):
    return get_object_or_404(jobs_visible_to(request.user, IMPORT_KIND), pk=job_id)


@manager_required
def import_status(request, job_id):
    job = _own_import_job(request, job_id)
    template = "activity/_import_progress.html" if request.htmx else "activity/import_status.html"
    return render(request, template, {"job": job, "errors": job.errors[:200]})


@manager_required
def import_errors(request, job_id):
    job = _own_import_job(request, job_id)
    return row_errors_response(f"activity-import-errors-{job.pk}.csv", job.errors)
