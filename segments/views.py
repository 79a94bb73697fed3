"""Segment pages: the audience builder with live count, saved segments, profile and overlap."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import manager_required
from core import export_jobs
from core.exports import csv_response
from core.forms import add_service_errors
from core.params import page_number
from customers.models import Tag

from . import exports, services
from .editing import edit, parse_path
from .expression import ExpressionError, parse, to_text
from .fields import EXAMPLES
from .forms import OverlapForm, SegmentForm
from .models import Segment
from .selectors import audience_profile, members_page, segments_list

MAX_DATALIST_TAGS = 2000


@manager_required
def segment_list(request):
    return render(request, "segments/list.html", {"segments": segments_list()})


@manager_required
def builder(request, pk=None):
    """Type or click an expression, see the audience while typing, save it as a segment."""
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    initial = {"text": request.GET.get("text", "")}
    if segment:
        initial = {"name": segment.name, "description": segment.description, "kind": segment.kind, "text": segment.text}
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_segment(segment=segment, by=request.user, **form.cleaned_data)
        except ExpressionError as error:
            form.add_error("text", str(error))
        except ValidationError as error:  # e.g. a name already taken (the model's full_clean)
            add_service_errors(form, error)
        else:
            messages.success(request, _("Segment %(name)s saved.") % {"name": saved.name})
            return redirect("segments:detail", pk=saved.pk)
    return render(request, "segments/builder.html", {
        "form": form, "segment": segment, "preview": _preview_context(form["text"].value() or ""),
        "tag_slugs": Tag.objects.order_by("slug").values_list("slug", flat=True)[:MAX_DATALIST_TAGS],
        "field_examples": EXAMPLES,
    })


def _preview_context(text: str) -> dict:
    if not text.strip():
        return {"empty": True}
    try:
        result = services.preview(text=text)
    except ExpressionError as error:
        position = error.position
        return {"error": error, "text": text, "before": text[:position] if position is not None else None,
                "at": text[position:position + 1] if position is not None else None,
                "after": text[position + 1:] if position is not None else None}
    result["tree"] = _tree_rows(result["expression"])
    result["share_pct"] = result["share"] * 100 if result["share"] is not None else None
    return result


def _tree_rows(node: dict, path: str = "") -> dict:
    """The tree with the path of every node, for the visual builder's buttons."""
    def child_path(index):
        return f"{path}.{index}" if path else str(index)

    if "all" in node or "any" in node:
        kind = "all" if "all" in node else "any"
        return {"kind": kind, "path": path, "children": [_tree_rows(child, child_path(i)) for i, child in enumerate(node[kind])]}
    if "not" in node:
        return {"kind": "not", "path": path, "children": [_tree_rows(node["not"], child_path(0))]}
    return {"kind": "leaf", "path": path, "text": to_text(node), "is_tag": "tag" in node}


@manager_required
@require_POST
def builder_preview(request):
    """htmx: the live count, share, sample and structure for the typed text."""
    return render(request, "segments/_preview.html", {"preview": _preview_context(request.POST.get("text", ""))})


@manager_required
@require_POST
def builder_edit(request):
    """htmx: one visual-builder action; returns the new text and preview."""
    text = request.POST.get("text", "")
    try:
        tree = parse(text) if text.strip() else None
        new = edit(tree, parse_path(request.POST.get("path", "")), request.POST.get("action", ""),
                   request.POST.get("fragment", ""))
    except ExpressionError as error:
        return render(request, "segments/_preview.html", {
            "preview": {**_preview_context(text), "edit_error": error}})
    new_text = to_text(new) if new else ""
    return render(request, "segments/_edit.html", {"text": new_text, "preview": _preview_context(new_text)})


@manager_required
def segment_detail(request, pk):
    segment = get_object_or_404(Segment, pk=pk)
    try:
        audience = services.segment_audience(segment)
    except ExpressionError as error:  # e.g. a tag it names was deleted outside LoopCRM (the admin, SQL)
        messages.error(request, _("This segment cannot be evaluated: %(error)s Fix its expression and save it.")
                       % {"error": error})
        return redirect("segments:edit_segment", pk=segment.pk)
    page = page_number(request.GET.get("page"))
    return render(request, "segments/detail.html", {
        "segment": segment, "count": audience.count, "profile": audience_profile(audience.bitmap),
        "members": members_page(audience.bitmap, offset=(page - 1) * 50, limit=50), "page": page,
        "has_next": page * 50 < audience.count,
    })


@manager_required
@require_POST
def segment_refresh(request, pk):
    segment = get_object_or_404(Segment, pk=pk)
    try:
        services.refresh_snapshot(segment=segment)
        messages.success(request, _("Snapshot taken again."))
    except ExpressionError as error:
        messages.error(request, str(error))
    return redirect("segments:detail", pk=pk)


@manager_required
def segment_delete(request, pk):
    segment = get_object_or_404(Segment, pk=pk)
    if request.method == "POST":
        try:
            services.delete_segment(segment=segment)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("segments:detail", pk=segment.pk)
        messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
        return redirect("segments:list")
    return render(request, "segments/delete.html", {"segment": segment})


@manager_required
def segment_export(request, pk):
    """The members as CSV (formula-safe): streamed at once up to EXPORT_INLINE_MAX_ROWS, else written
    by a job and downloaded when complete (segments.exports)."""
    segment = get_object_or_404(Segment, pk=pk)
    bitmap = services.segment_audience(segment).bitmap
    if not export_jobs.fits_inline(len(bitmap)):
        job = exports.queue_segment_export(segment=segment, by=request.user, count=len(bitmap))
        return redirect("core:export_status", job_id=job.pk)
    return csv_response(f"segment-{segment.pk}.csv", [str(name) for name in exports.HEADER],
                        exports.member_rows(bitmap))


@manager_required
def overlap(request):
    """Compare 2–4 crowds: every in/out combination's size, each a link into the builder."""
    form = OverlapForm(request.GET or None)
    result, error = None, None
    if form.is_bound and form.is_valid():
        try:
            result = services.overlap(crowds=[{"text": text} for text in form.texts()])
        except ExpressionError as problem:
            error = problem
        else:
            for cell in result["cells"]:
                cell["builder_url"] = reverse("segments:builder") + "?" + _query(cell["text"])
                cell["share_pct"] = cell["count"] / result["total"] * 100 if result["total"] else None
    return render(request, "segments/overlap.html", {"form": form, "result": result, "error": error})


def _query(text: str) -> str:
    return urlencode({"text": text})
