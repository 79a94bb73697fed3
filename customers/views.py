"""Customer, tag and import pages. Thin: forms and selectors in, services for writes."""

import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from accounts.roles import is_manager
from core import export_jobs
from core.exports import csv_response, row_errors_response, xlsx_response
from core.forms import add_service_errors
from core.models import Job
from core.selectors import jobs_visible_to
from core.services import checked_upload_suffix, store_upload
from core.tables import configure_table

from . import bulk_changes, exports, services
from .filters import CustomerFilter
from .forms import BulkActionForm, CustomerTagForm, ImportMappingForm, ImportUploadForm, TagForm, TagMergeForm
from .import_jobs import ALLOWED_SUFFIXES, IMPORT_KIND, import_folder, queue_import_of_path
from .importing import ImportFileError, read_table
from .listing import listed_customers
from .mapping import PRESETS, MappingError, build_mapping, default_mapping
from .models import Tag
from .selectors import (
    CUSTOMER_PANELS,
    LIST_PANELS,
    customer_page_sections,
    customer_timeline,
    customers_visible_to,
    tag_links_for,
    tags_with_counts,
)
from .tables import CustomerTable, TagTable
from .tag_references import references_to

XLSX_MAX_ROWS = 1_000_000


@login_required
def customer_list(request):
    """The filterable, sortable customer list with bulk actions."""
    customer_filter = CustomerFilter(request.GET, queryset=customers_visible_to(request.user))
    table = CustomerTable(listed_customers(customer_filter, request.user))
    configure_table(request, table, per_page=50)
    template = "customers/_customer_table.html" if request.htmx else "customers/list.html"
    return render(request, template, {
        "filter": customer_filter, "table": table, "bulk_form": BulkActionForm(),
        "query": request.GET.urlencode(), "list_panels": LIST_PANELS,
    })


def _filter_refusal(customer_filter) -> str:
    problems = "; ".join(f"{customer_filter.form.fields[name].label}: {' '.join(errors)}"
                         for name, errors in customer_filter.form.errors.items())
    return _("The filter is not valid (%(problems)s): nothing was done.") % {"problems": problems}


@login_required
def customer_export(request):
    """The filtered list as CSV or XLSX, formulas neutralised, own customers only: streamed at once up
    to EXPORT_INLINE_MAX_ROWS, else written whole by a job and downloaded when complete."""
    customer_filter = CustomerFilter(request.GET, queryset=customers_visible_to(request.user))
    if not customer_filter.is_valid():
        messages.error(request, _filter_refusal(customer_filter))
        return redirect(reverse("customers:list") + "?" + request.GET.urlencode())
    count = listed_customers(customer_filter, request.user).count()
    workbook = request.GET.get("format") == "xlsx"
    if workbook and count > XLSX_MAX_ROWS:
        messages.error(request, _("Too many rows for one workbook; narrow the filter or export CSV."))
        return redirect(reverse("customers:list") + "?" + request.GET.urlencode())
    if not export_jobs.fits_inline(count):
        job = exports.queue_customer_export(query=request.GET, by=request.user, count=count, workbook=workbook)
        return redirect("core:export_status", job_id=job.pk)
    header, rows = exports.customer_rows(customer_filter)
    if workbook:
        return xlsx_response("customers.xlsx", {_("Customers"): (header, rows)})
    return csv_response("customers.csv", header, rows)


@login_required
@require_POST
def customer_bulk_action(request):
    """Add/remove a tag or assign an owner for the selected (or all filtered) customers."""
    form = BulkActionForm(request.POST)
    back = reverse("customers:list") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    data = form.cleaned_data
    visible = customers_visible_to(request.user)
    if data["all_matching"]:
        matching = CustomerFilter(QueryDict(request.POST.get("query", "")), queryset=visible)
        if not matching.is_valid():
            messages.error(request, _filter_refusal(matching))
            return redirect(back)
        targets = matching.qs
    else:
        targets = visible.filter(pk__in=data["id_list"])
        if targets.count() != len(set(data["id_list"])):
            raise Http404  # some ids are not this user's customers
    if data["action"] == "assign_owner" and not is_manager(request.user):
        raise PermissionDenied
    action = {"action": data["action"], "customers": targets, "tag": data.get("tag"), "owner": data.get("owner")}
    if request.POST.get("confirmed") != "1":  # first say exactly what would change
        return render(request, "customers/bulk_confirm.html", {
            "plan": bulk_changes.plan_bulk_change(**action), "post": request.POST, "back": back})
    try:
        change = bulk_changes.apply_bulk_change(
            **action, by=request.user, other_branches_confirmed=request.POST.get("other_branches") == "1")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, _("Done: %(summary)s. It is recorded under Bulk changes, where it can be undone.")
                     % {"summary": change.summary})
    return redirect(back)


@login_required
def bulk_change_list(request):
    """Every bulk change (a manager) or one's own (an account manager), newest first, with undo."""
    changes = bulk_changes.bulk_changes_visible_to(request.user, manager=is_manager(request.user))[:100]
    return render(request, "customers/bulk_changes.html", {"changes": changes})


@login_required
@require_POST
def bulk_change_undo(request, pk):
    change = get_object_or_404(bulk_changes.bulk_changes_visible_to(request.user, manager=is_manager(request.user)),
                               pk=pk)
    try:
        restored = bulk_changes.undo_bulk_change(change=change, by=request.user,
                                                 customers=customers_visible_to(request.user))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, ngettext("Undone: %(count)d customer is as before.",
                                           "Undone: %(count)d customers are as before.", restored)
                         % {"count": restored})
    return redirect("customers:bulk_changes")


def _visible_customer(request, pk):
    return get_object_or_404(customers_visible_to(request.user), pk=pk)


@login_required
def customer_detail(request, pk):
    """Profile, tags and timeline of one customer."""
    customer = _visible_customer(request, pk)
    return render(request, "customers/detail.html", {
        "customer": customer, "tag_links": tag_links_for(customer), "tag_form": CustomerTagForm(),
        "timeline": customer_timeline(customer, request.user),
        "sections": customer_page_sections(customer, request.user), "customer_panels": CUSTOMER_PANELS,
    })


@login_required
@require_POST
def customer_tags(request, pk):
    """Add or remove one tag on one customer (htmx fragment or full redirect)."""
    customer = _visible_customer(request, pk)
    form = CustomerTagForm(request.POST)
    one = customers_visible_to(request.user).filter(pk=customer.pk)
    removed = refused = None
    if form.is_valid():
        tag = form.cleaned_data["tag"]
        try:
            if request.POST.get("op") == "remove":
                if services.remove_tag(tag=tag, customers=one, by=request.user):
                    removed = tag  # the fragment offers to put it back (a chip is one click from gone)
            else:
                services.add_tag(tag=tag, customers=one, by=request.user)
        except ValidationError as error:
            refused = " ".join(error.messages)
    elif request.POST.get("tag"):
        messages.error(request, _("Unknown tag %(tag)s.") % {"tag": request.POST.get("tag")})
    if request.htmx:
        return render(request, "customers/_tags.html", {
            "customer": customer, "tag_links": tag_links_for(customer), "tag_form": CustomerTagForm(),
            "form_errors": form.errors if request.POST.get("tag") else None, "removed": removed, "refused": refused,
        })
    if refused:
        messages.error(request, refused)
    return redirect("customers:detail", pk=customer.pk)


# --- Tags --------------------------------------------------------------------------------------

@manager_required
def tag_list(request):
    """All tags with customer counts."""
    tags = tags_with_counts(request.user)
    search = request.GET.get("q", "").strip()
    if search:
        tags = tags.filter(slug__contains=search.lower())
    table = TagTable(tags)
    configure_table(request, table, per_page=100)
    return render(request, "customers/tags.html", {"table": table, "q": search})


@manager_required
def tag_create(request):
    form = TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = services.create_tag(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tag %(tag)s created.") % {"tag": tag.slug})
            return redirect("customers:tags")
    return render(request, "customers/tag_form.html", {"form": form, "title": _("New tag")})


@manager_required
def tag_edit(request, pk):
    tag = get_object_or_404(Tag, pk=pk)
    # The form validates a copy: a ModelForm writes into its instance, and the service must see
    # the tag as stored (its old slug) to decide what the rename changes.
    form = TagForm(request.POST or None, instance=Tag.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_tag(tag=tag, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Tag %(tag)s saved.") % {"tag": tag.slug})
            return redirect("customers:tags")
    return render(request, "customers/tag_form.html", {"form": form, "title": _("Edit tag %(tag)s") % {"tag": tag.slug}})


@manager_required
def tag_delete(request, pk):
    """Confirm with the number of customers that carry the tag, then delete it."""
    tag = get_object_or_404(tags_with_counts(request.user), pk=pk)
    users = references_to({tag.slug})
    if request.method == "POST" and not users:
        count = services.delete_tag(tag=tag, by=request.user)
        messages.success(request, _("Tag %(tag)s deleted from %(n)d customers.") % {"tag": tag.slug, "n": count})
        return redirect("customers:tags")
    return render(request, "customers/tag_delete.html", {"tag": tag, "users": users})


@manager_required
def tag_merge(request):
    """Merge tags into one: first show what will move, then do it."""
    form = TagMergeForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        sources, target = list(form.cleaned_data["sources"]), form.cleaned_data["target"]
        if request.POST.get("confirmed") == "1":
            try:
                moved = services.merge_tags(sources=sources, target=target, by=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Merged into %(tag)s; %(n)d customers gained it.") % {"tag": target.slug, "n": moved})
                return redirect("customers:tags")
        else:
            preview = {"sources": tags_with_counts(request.user).filter(pk__in=[tag.pk for tag in sources]), "target": target,
                       "users": references_to({tag.slug for tag in sources if tag.pk != target.pk})}
    return render(request, "customers/tag_merge.html", {"form": form, "preview": preview})


# --- Import ------------------------------------------------------------------------------------

STAGED_SESSION_KEY = "staged_imports"


@manager_required
def import_upload(request):
    """Step 1 (upload) and step 2 (map columns, preview) of an import."""
    token = request.POST.get("token") or request.GET.get("token")
    if token:
        return _import_mapping(request, token)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
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
            staged[token] = {"suffix": suffix, "name": upload.name, "preset": form.cleaned_data["preset"],
                             "delimiter": form.cleaned_data["delimiter"] or None,
                             "encoding": form.cleaned_data["encoding"] or None, "size": upload.size}
            request.session[STAGED_SESSION_KEY] = staged
            return redirect(reverse("customers:import") + f"?token={token}")
    recent = Job.objects.filter(kind=IMPORT_KIND, created_by=request.user)[:10]
    return render(request, "customers/import_upload.html", {"form": form, "recent": recent})


def _staged_path(token: str, suffix: str) -> Path:
    folder = import_folder() / "staged"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{token}{suffix}"


def _import_mapping(request, token):
    staged = request.session.get(STAGED_SESSION_KEY, {}).get(token)
    if staged is None:
        raise Http404
    path = _staged_path(token, staged["suffix"])
    try:
        # The mapping step reads the header and a few rows only; the whole file is parsed by the worker.
        frame = read_table(path, delimiter=staged["delimiter"], encoding=staged.get("encoding"), preview_rows=10)
    except (ImportFileError, FileNotFoundError) as error:
        messages.error(request, str(error) if isinstance(error, ImportFileError)
                       else _("The uploaded file has expired; upload it again."))
        path.unlink(missing_ok=True)
        return redirect("customers:import")
    headers = list(frame.columns)
    preset = PRESETS.get(staged["preset"]) if staged["preset"] else None
    try:
        initial = build_mapping(preset, headers).columns if preset else default_mapping(headers).columns
    except MappingError:  # the preset does not fit this file: start from the header and let the user map
        initial = default_mapping(headers).columns
    form = ImportMappingForm(request.POST or None, headers=headers, initial_mapping=initial,
                             initial={"row_id_prefix": (preset or {}).get("row_id_prefix", "")})
    if request.method == "POST" and form.is_valid():
        try:
            build_mapping(form.mapping(), headers)
        except MappingError as error:
            form.add_error(None, str(error))
        else:
            job = queue_import_of_path(path=path, by=request.user, mapping=form.mapping(), delimiter=staged["delimiter"],
                                       encoding=staged.get("encoding"), file_name=staged["name"])
            path.unlink(missing_ok=True)
            return redirect("customers:import_status", job_id=job.pk)
    return render(request, "customers/import_mapping.html", {
        "form": form, "token": token, "file_name": staged["name"], "size": staged.get("size"),
        "preview_header": headers, "preview_rows": frame.head(10).values.tolist(),
        "fields": [form[f"col_{index}"] for index in range(len(headers))],
    })


def _own_import_job(request, job_id):
    return get_object_or_404(jobs_visible_to(request.user, IMPORT_KIND), pk=job_id)


@manager_required
def import_status(request, job_id):
    """Step 3: progress bar (polled by htmx while running), then counts and errors."""
    job = _own_import_job(request, job_id)
    template = "customers/_import_progress.html" if request.htmx else "customers/import_status.html"
    return render(request, template, {"job": job, "errors": job.errors[:200]})


@manager_required
def import_errors(request, job_id):
    """The row-level error report as CSV."""
    job = _own_import_job(request, job_id)
    return row_errors_response(f"import-errors-{job.pk}.csv", job.errors)
