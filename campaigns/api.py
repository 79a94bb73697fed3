"""REST API for campaigns and tasks (/api/v1/campaigns/, /api/v1/tasks/)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import is_manager
from accounts.selectors import account_managers
from core.api import JobSerializer
from segments.compiler import checked_expression
from segments.expression import ExpressionError
from segments.models import Segment

from . import outcomes, services
from .filters import CampaignFilter, TaskFilter
from .models import Campaign, OutcomeChange, Strategy, Task
from .selectors import campaign_stats, campaigns_list, tasks_visible_to


class IsManager(permissions.BasePermission):
    message = _("Campaigns are for marketing managers and admins.")

    def has_permission(self, request, view):
        return is_manager(request.user)


class CampaignSerializer(serializers.ModelSerializer):
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), allow_null=True, required=False)
    expression = serializers.JSONField(required=False, allow_null=True,
                                       help_text=_("The audience as a JSON tree, e.g. {\"tag\": \"vip\"}"))
    text = serializers.CharField(required=False, allow_blank=True,
                                 help_text=_("The audience as text, e.g. vip AND assets >= 1000000"))
    account_managers = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=account_managers(), required=False,
        help_text=_("Usernames of the account managers for round_robin / least_open / branch."))
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    slug = serializers.SlugField(required=False, max_length=80)
    launch_job = serializers.UUIDField(source="launch_job_id", read_only=True, allow_null=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "slug", "objective", "product", "channel", "priority", "segment", "expression", "text",
                  "start_at", "end_date", "due_date", "sla_days", "cost_fixed", "cost_per_contact",
                  "value_per_conversion", "holdout_pct", "holdout_seed", "strategy", "account_managers",
                  "frequency_cap_days", "script", "owner", "status", "launch_job", "launched_text", "audience_size",
                  "excluded", "holdout_size", "task_count", "launched_at", "closed_at", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "status", "launch_job", "launched_text", "audience_size", "excluded",
                            "holdout_size", "task_count", "launched_at", "closed_at", "created_at", "updated_at"]
        extra_kwargs = {"holdout_seed": {"required": False}}

    def validate_due_date(self, value):
        if value and value < timezone.localdate() and (self.instance is None or value != self.instance.due_date):
            raise serializers.ValidationError(_("The due date is in the past."))
        return value

    def validate(self, data):
        instance = self.instance
        if instance is not None and not instance.is_editable:
            locked = sorted(name for name in Campaign.LAUNCH_FIELDS & set(data) if _differs(instance, name, data[name]))
            if locked:
                raise serializers.ValidationError({name: [_("Cannot change after launch.")] for name in locked})
        audience_given = any(data.get(name) not in (None, "") for name in ("segment", "expression", "text"))
        if instance is None and not audience_given:
            raise serializers.ValidationError({"text": [_("Give a segment, an expression or a text.")]})
        if data.get("expression") is not None or data.get("text"):
            field = "expression" if data.get("expression") is not None else "text"
            try:
                checked_expression(expression=data.get("expression"),
                                   text=None if field == "expression" else data["text"])
            except ExpressionError as error:
                error.field = field  # the view answers {field: [message], position, path}
                raise
        strategy = data.get("strategy", instance.strategy if instance else Strategy.OWNER)
        managers = data.get("account_managers", list(instance.account_managers.all()) if instance else [])
        if strategy in (Strategy.ROUND_ROBIN, Strategy.LEAST_OPEN) and not managers:
            raise serializers.ValidationError({"account_managers": [_("Choose the account managers to share the tasks.")]})
        end_date, start_at = data.get("end_date"), data.get("start_at")
        if end_date and start_at and end_date < timezone.localtime(start_at).date():
            raise serializers.ValidationError({"end_date": [_("The end date is before the start.")]})
        return data

    def _save(self, campaign: Campaign, data: dict) -> Campaign:
        managers = data.pop("account_managers", None)
        if data.get("segment"):
            data.setdefault("expression", None)
            data.setdefault("text", "")
        elif "expression" in data or "text" in data:
            data["segment"] = None
            data.setdefault("expression", None)  # None: the service reads the text
        for name, value in data.items():
            setattr(campaign, name, value)
        return services.save_campaign(campaign=campaign, by=self.context["request"].user, managers=managers)

    def create(self, validated_data):
        return self._save(Campaign(), dict(validated_data))

    def update(self, instance, validated_data):
        return self._save(instance, dict(validated_data))


def _differs(instance: Campaign, name: str, value) -> bool:
    if name == "account_managers":
        return {user.pk for user in value} != set(instance.account_managers.values_list("pk", flat=True))
    return getattr(instance, name) != value


class TaskSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Task
        fields = ["id", "campaign", "campaign_name", "customer", "customer_name", "assignee", "status", "group",
                  "channel", "priority", "due_date", "version", "contact_result", "response", "failure_reason",
                  "failure_note", "amount", "product", "note", "next_follow_up", "completed_at", "created_at",
                  "updated_at"]
        read_only_fields = fields


class OutcomeInput(serializers.Serializer):
    """An outcome as the work view sends it; `version` is the task version the edit started from."""

    version = serializers.IntegerField(min_value=1)
    contact_result = serializers.ChoiceField(choices=Task.ContactResult.choices)
    response = serializers.ChoiceField(choices=Task.Response.choices, required=False, allow_blank=True)
    failure_reason = serializers.CharField(required=False, allow_blank=True, max_length=40)
    failure_note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True, min_value=0)
    product = serializers.CharField(required=False, allow_blank=True, max_length=120)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    next_follow_up = serializers.DateField(required=False, allow_null=True)


class OutcomeChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OutcomeChange
        fields = ["at", "by", "version", "before", "after"]


class ReassignInput(serializers.Serializer):
    tasks = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=10_000)
    to = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(),
                                      help_text=_("Username of the account manager who takes the tasks."))


def _refusal(error: services.CampaignError) -> Response:
    code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_400_BAD_REQUEST
    return Response({"detail": str(error)}, status=code)


@extend_schema(tags=["campaigns"])
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Campaigns for marketing managers and admins: create, launch, follow, close."""

    serializer_class = CampaignSerializer
    permission_classes = [permissions.IsAuthenticated, IsManager]
    filterset_class = CampaignFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return campaigns_list().prefetch_related("account_managers")

    def handle_exception(self, exc):
        if isinstance(exc, services.CampaignError):
            return _refusal(exc)
        if isinstance(exc, ExpressionError):
            body = exc.as_dict()
            body[getattr(exc, "field", "text")] = [str(exc)]
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def _transition(self, request, service):
        campaign = service(campaign=self.get_object(), by=request.user)
        return Response(CampaignSerializer(campaign, context={"request": request}).data)

    @extend_schema(request=None, responses={202: inline_serializer("LaunchAccepted", {
        "job": serializers.UUIDField(), "status": JobSerializer()})})
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Launch now: 202 {job, status} (as the import answers; follow it at /api/v1/jobs/{job}/); the
        same job again while it runs; 409 once launched."""
        job = services.queue_launch(campaign=self.get_object(), by=request.user)
        job.refresh_from_db()
        return Response({"job": str(job.pk), "status": JobSerializer(job).data}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: inline_serializer("LaunchPlan", {
        "text": serializers.CharField(), "audience": serializers.IntegerField(), "excluded": serializers.DictField(),
        "excluded_total": serializers.IntegerField(), "holdout": serializers.IntegerField(),
        "tasks": serializers.IntegerField()})})
    @action(detail=True, methods=["get"])
    def audience(self, request, pk=None):
        """What a launch would do now: audience, exclusions by reason, holdout and tasks."""
        return Response(services.launch_preview(campaign=self.get_object()).as_dict())

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Launch by itself at start_at (which must be in the future)."""
        return self._transition(request, services.schedule_campaign)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def unschedule(self, request, pk=None):
        return self._transition(request, services.unschedule_campaign)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Close a running campaign; open tasks are cancelled."""
        return self._transition(request, services.complete_campaign)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, services.cancel_campaign)

    @extend_schema(responses={200: inline_serializer("CampaignStats", {
        "audience": serializers.IntegerField(), "excluded": serializers.DictField(),
        "holdout": serializers.IntegerField(), "tasks": serializers.IntegerField(),
        "done": serializers.IntegerField(), "contacted": serializers.IntegerField(),
        "converted": serializers.IntegerField(), "success_rate": serializers.FloatField(allow_null=True),
        "revenue": serializers.DecimalField(max_digits=18, decimal_places=2),
        "cost": serializers.DecimalField(max_digits=18, decimal_places=2),
        "roi": serializers.FloatField(allow_null=True),
        "by_channel": serializers.ListField(child=serializers.DictField()),
        "by_account_manager": serializers.ListField(child=serializers.DictField())})})
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        """Audience, exclusions, holdout, work done and results; rates as fractions (0.1170)."""
        return Response(campaign_stats(self.get_object()))


@extend_schema(tags=["tasks"])
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up tasks: an account manager sees only their own (404 for any other)."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=OutcomeInput, responses={200: TaskSerializer, 409: TaskSerializer})
    def partial_update(self, request, pk=None):
        """Log the outcome: 200 with the new version, 409 (and the task as it is) when `version` is stale."""
        task = self.get_object()
        data = OutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            task = outcomes.log_outcome(task=task, by=request.user, version=values.pop("version"), **values)
        except outcomes.StaleEdit as stale:
            current = TaskSerializer(stale.current, context={"request": request}).data
            return Response({"detail": str(stale), "current": current}, status=status.HTTP_409_CONFLICT)
        return Response(TaskSerializer(task, context={"request": request}).data)

    @extend_schema(responses={200: OutcomeChangeSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        """Every saved outcome of the task: who, when, before and after."""
        changes = self.get_object().outcome_changes.select_related("by")
        return Response(OutcomeChangeSerializer(changes, many=True).data)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        return (tasks_visible_to(self.request.user).select_related("campaign", "customer", "assignee")
                .order_by("due_date", "id"))

    @extend_schema(request=ReassignInput, responses={200: inline_serializer("Reassigned", {
        "reassigned": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], serializer_class=ReassignInput, pagination_class=None)
    def reassign(self, request):
        """Give open contact tasks to another account manager (managers only); history is kept."""
        if not is_manager(request.user):
            return Response({"detail": _("Only a manager can reassign tasks.")}, status=status.HTTP_403_FORBIDDEN)
        data = ReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            moved = services.reassign_tasks(tasks=Task.objects.filter(pk__in=data.validated_data["tasks"]),
                                            to_user=data.validated_data["to"], by=request.user)
        except services.CampaignError as error:
            raise serializers.ValidationError({"to": [str(error)]}) from error
        return Response({"reassigned": moved})



class WeeklyWorkbookRenderer(renderers.BaseRenderer):
    """`?format=xlsx` (or `weekly.xlsx`): the weekly report as a workbook, one sheet per breakdown."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        from core.exports import xlsx_bytes

        from .report_exports import weekly_workbook

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
        from .reports import weekly_report

        try:
            report = weekly_report(request.query_params.get("week"))
        except ValueError as error:
            raise serializers.ValidationError({"week": [str(error)]}) from error
        return Response(report)
