"""Reports API: the weekly review as JSON or XLSX."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsManager
from campaigns.analytics.exports import weekly_workbook
from campaigns.analytics.reports import weekly_report
from core.exports import xlsx_bytes


class WeeklyWorkbookRenderer(renderers.BaseRenderer):
    """`?format=xlsx` (or `weekly.xlsx`): the weekly report as a workbook, one sheet per breakdown."""
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):

        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:  # errors stay readable
            self.media_type = "application/json"
            return renderers.JSONRenderer().render(data)
        if response is not None:
            response["Content-Disposition"] = f'attachment; filename="loopcrm-weekly-{data["week"]}.xlsx"'
        return xlsx_bytes(weekly_workbook(data))


@extend_schema(tags=["reports"])
class ReportViewSet(viewsets.ViewSet):
    """Reports for marketing managers and admins."""
    permission_classes = [permissions.IsAuthenticated, IsManager]

    @extend_schema(parameters=[OpenApiParameter("week", str, description=_("ISO week, e.g. 2026-W47 (default: this week)"))],
                   responses={200: inline_serializer("WeeklyReport", {
                       "week": serializers.CharField(), "summary": serializers.DictField(),
                       "campaigns": serializers.ListField(child=serializers.DictField()),
                       "by_channel": serializers.ListField(child=serializers.DictField())})})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, WeeklyWorkbookRenderer])
    def weekly(self, request):
        """The weekly operations review as JSON (or `?format=xlsx`): the week's activity, every campaign
        involved with its to-date figures and stop / keep / grow, rates as fractions."""

        try:
            report = weekly_report(request.query_params.get("week"))
        except ValueError as error:
            raise serializers.ValidationError({"week": [str(error)]}) from error
        return Response(report)
