"""Campaigns API: create/edit with field errors, launch, lifecycle actions, audience preview, stats."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsManager
from accounts.selectors import account_managers
from activity.models import Product
from campaigns.analytics.selectors import campaign_stats
from campaigns.analytics.serializers import CampaignStatsSerializer
from campaigns.lifecycle import services
from campaigns.lifecycle.filters import CampaignFilter
from campaigns.lifecycle.selectors import campaigns_list
from campaigns.models import Campaign
from core.api import ConflictSerializer, JobSerializer
from segments.compiler import checked_expression
from segments.expression import ExpressionError
from segments.models import Segment


class CampaignSerializer(serializers.ModelSerializer):
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), allow_null=True, required=False)
    expression = serializers.JSONField(required=False, allow_null=True,
                                       help_text=_("The audience as a JSON tree, e.g. {\"tag\": \"vip\"}"))
    text = serializers.CharField(required=False, allow_blank=True,
                                 help_text=_("The audience as text, e.g. vip AND assets >= 1000000"))
    account_managers = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=account_managers(), required=False,
        help_text=_("Usernames of the account managers for round_robin / least_open / branch."))
    products = serializers.SlugRelatedField(
        many=True, slug_field="code", queryset=Product.objects.all(), required=False,
        help_text=_("Codes of the products promoted: their purchases after launch are attributed conversions."))
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    slug = serializers.SlugField(required=False, max_length=80)
    launch_job = serializers.UUIDField(source="launch_job_id", read_only=True, allow_null=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "slug", "objective", "product", "channel", "priority", "segment", "expression", "text",
                  "start_at", "end_date", "due_date", "sla_days", "cost_fixed", "cost_per_contact",
                  "value_per_conversion", "holdout_pct", "holdout_seed", "strategy", "account_managers",
                  "frequency_cap_days", "purpose", "script", "products", "attribution_days", "suitability", "owner",
                  "status", "launch_job", "approved_by", "approved_at", "launched_text", "audience_size", "excluded",
                  "holdout_size", "task_count", "launched_at", "closed_at", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "status", "launch_job", "approved_by", "approved_at", "launched_text",
                            "audience_size", "excluded", "holdout_size", "task_count", "launched_at", "closed_at",
                            "created_at", "updated_at"]
        extra_kwargs = {"holdout_seed": {"required": False}}

    def validate(self, data):
        # Only the input is read here (an expression's syntax, with its position); every rule of a
        # campaign's settings is save_campaign's, so the form and the API answer alike.
        if data.get("expression") is not None or data.get("text"):
            field = "expression" if data.get("expression") is not None else "text"
            try:
                checked_expression(expression=data.get("expression"),
                                   text=None if field == "expression" else data["text"])
            except ExpressionError as error:
                error.field = field  # the view answers {field: [message], position, path}
                raise
        return data

    def _save(self, campaign: Campaign, data: dict) -> Campaign:
        managers = data.pop("account_managers", None)
        products = data.pop("products", None)
        if campaign.is_editable:  # the audience given in this request replaces the stored one
            if data.get("segment"):
                data.setdefault("expression", None)
                data.setdefault("text", "")
            elif "expression" in data or "text" in data:
                data["segment"] = None
                data.setdefault("expression", None)  # None: the service reads the text
        for name, value in data.items():
            setattr(campaign, name, value)
        return services.save_campaign(campaign=campaign, by=self.context["request"].user, managers=managers,
                                      products=products)

    def create(self, validated_data):
        return self._save(Campaign(), dict(validated_data))

    def update(self, instance, validated_data):
        return self._save(instance, dict(validated_data))


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
        return campaigns_list().prefetch_related("account_managers", "products")

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
        "job": serializers.UUIDField(), "status": JobSerializer()}), 409: ConflictSerializer})
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

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Launch by itself at start_at (which must be in the future)."""
        return self._transition(request, services.schedule_campaign)

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def unschedule(self, request, pk=None):
        return self._transition(request, services.unschedule_campaign)

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Close a running campaign; open tasks are cancelled."""
        return self._transition(request, services.complete_campaign)

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, services.cancel_campaign)

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The checker's approval (CAMPAIGN_APPROVAL_REQUIRED): a marketing manager other than the owner."""
        return self._transition(request, services.approve_campaign)

    @extend_schema(responses={200: CampaignStatsSerializer})
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        """Audience, exclusions, holdout, work done and results; rates as fractions (0.1170)."""
        return Response(CampaignStatsSerializer(campaign_stats(self.get_object())).data)
