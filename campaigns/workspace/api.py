"""Tasks API: an account manager's own tasks, outcomes with version checks, reassignment."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import is_manager
from campaigns.errors import CampaignError
from campaigns.models import OutcomeChange, Task
from campaigns.workspace import services
from campaigns.workspace.filters import TaskFilter
from campaigns.workspace.selectors import tasks_visible_to


class TaskSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    # Blank until an outcome is logged: declared so, or generated clients reject the empty value.
    contact_result = serializers.ChoiceField(choices=Task.ContactResult.choices, allow_blank=True, read_only=True)
    response = serializers.ChoiceField(choices=Task.Response.choices, allow_blank=True, read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                            help_text=_("None for holdout customers: nobody contacts them."))
    event = serializers.CharField(source="trigger_event.external_id", read_only=True, allow_null=True, default=None,
                                  help_text=_("The external id of the event that made this task (key-event rules)."))

    class Meta:
        model = Task
        fields = ["id", "campaign", "campaign_name", "customer", "customer_name", "assignee", "status", "group",
                  "channel", "priority", "due_date", "due_at", "version", "contact_result", "response", "failure_reason",
                  "failure_note", "amount", "product", "note", "next_follow_up", "completed_at", "created_at",
                  "updated_at", "trigger", "event"]
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


@extend_schema(tags=["tasks"])
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up tasks: an account manager sees only their own (404 for any other)."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=OutcomeInput, responses={200: TaskSerializer, 409: inline_serializer("TaskConflict", {
        "detail": serializers.CharField(), "current": TaskSerializer()})})
    def partial_update(self, request, pk=None):
        """Log the outcome: 200 with the new version, 409 (and the task as it is) when `version` is stale."""
        task = self.get_object()
        data = OutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            task = services.log_outcome(task=task, by=request.user, version=values.pop("version"), **values)
        except services.StaleEdit as stale:
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
        return (tasks_visible_to(self.request.user).select_related("campaign", "customer", "assignee", "trigger_event")
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
        except CampaignError as error:
            raise serializers.ValidationError({"to": [str(error)]}) from error
        return Response({"reassigned": moved})
