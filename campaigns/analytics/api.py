"""Reports API: the weekly review as JSON or XLSX."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsManager
from campaigns.analytics.exports import weekly_workbook
from campaigns.analytics.review import weekly_report
from campaigns.analytics.serializers import WeeklyReportSerializer
from core.api import FIELD_ERRORS
from core.exports import xlsx_bytes


class WeeklyWorkbookRenderer(renderers.BaseRenderer):
    """The weekly report as a workbook, one sheet per breakdown (/weekly/xlsx/, or /weekly/?format=xlsx)."""
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response, request = context.get("response"), context.get("request")
        not_a_report = (response is not None and response.status_code >= 400) or (
            request is not None and request.method != "GET")  # errors and OPTIONS stay JSON, labelled so
        if not_a_report:
            if response is not None:
                response["Content-Type"] = "application/json"
            return renderers.JSONRenderer().render(data)
        if response is not None:
            response["Content-Disposition"] = f'attachment; filename="loopcrm-weekly-{data["week"]}.xlsx"'
        return xlsx_bytes(weekly_workbook(data))


WEEK = OpenApiParameter("week", str, description=_("ISO week, e.g. 2026-W47 (default: this week)"))


@extend_schema(tags=["reports"])
class ReportViewSet(viewsets.ViewSet):
    """Reports for marketing managers and admins."""
    permission_classes = [permissions.IsAuthenticated, IsManager]

    @extend_schema(parameters=[WEEK], responses={200: WeeklyReportSerializer})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, WeeklyWorkbookRenderer])
    def weekly(self, request):
        """The weekly operations review as JSON (`?format=xlsx` still answers the workbook, which
        /weekly/xlsx/ declares): the week's activity, every campaign involved with its figures as of
        the end of the week and stop / keep / grow, rates as fractions, money as decimal strings."""
        return Response(WeeklyReportSerializer(self._report(request)).data)

    @extend_schema(parameters=[WEEK], responses={
        (200, WeeklyWorkbookRenderer.media_type): OpenApiTypes.BINARY,
        (400, "application/json"): FIELD_ERRORS})
    @action(detail=False, methods=["get"], url_path="weekly/xlsx", url_name="weekly-xlsx",
            renderer_classes=[WeeklyWorkbookRenderer])  # errors are JSON all the same (see the renderer)
    def weekly_xlsx(self, request):
        """The weekly review as a workbook: a summary sheet and one sheet per breakdown."""
        return Response(WeeklyReportSerializer(self._report(request)).data)

    @staticmethod
    def _report(request) -> dict:
        try:
            return weekly_report(request.query_params.get("week"))
        except ValueError as error:
            raise serializers.ValidationError({"week": [str(error)]}) from error
