"""Key-event rules API (DESIGN.md): `GET|POST /api/v1/triggers/`, and one rule's GET, PATCH, DELETE."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets

from accounts.permissions import IsManager
from campaigns.models import TriggerRule

from . import services


@extend_schema_field(OpenApiTypes.ANY)
class SegmentField(serializers.Field):
    """A segment expression as JSON or as text; answered as text."""

    def to_internal_value(self, data):
        if data is None or isinstance(data, str | dict):
            return data
        raise serializers.ValidationError(_("A segment is an expression (JSON object) or its text."))

    def to_representation(self, value):
        return value


class TriggerSerializer(serializers.ModelSerializer):
    segment = SegmentField(source="text", required=False, allow_null=True,
                           help_text=_("Who the rule applies to: an expression (JSON) or its text; empty: everyone."))
    properties = serializers.JSONField(required=False, help_text=_(
        "Conditions on the event's properties: {\"page\": \"fund-x\", \"loss_pct\": {\"gte\": 20}}."))
    threshold = serializers.JSONField(required=False, allow_null=True, help_text=_(
        "A threshold change watched without an event, e.g. {\"kind\": \"maturing\", \"days\": 7} or "
        "{\"kind\": \"holding_loss\", \"days\": 30, \"pct\": 20, \"min_amount\": 100000}; kinds maturing, "
        "holding_loss, asset_drop, trading_change (docs/triggers.md)."))
    campaign = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The campaign its tasks belong to."))

    class Meta:
        model = TriggerRule
        fields = ["id", "name", "event", "properties", "absent_event", "absent_within_hours", "segment", "expression",
                  "action", "priority", "sla_hours", "script", "quiet_hours", "window_hours", "service", "threshold", "active",
                  "campaign",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "expression", "campaign", "created_at", "updated_at"]

    def validate(self, attrs):
        return attrs  # every rule of a rule's settings is services.save_rule's

    def _save(self, rule, data):
        # segment given (null or "" = everyone) replaces the stored one; left out, it stays.
        segment = (data.pop("text", None) or "") if "segment" in self.initial_data else None
        return services.save_rule(by=self.context["request"].user, rule=rule, segment=segment, **data)

    def create(self, validated_data):
        return self._save(None, dict(validated_data))

    def update(self, instance, validated_data):
        return self._save(instance, dict(validated_data))


@extend_schema(tags=["triggers"])
class TriggerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Key-event rules for marketing managers: when a customer does something, their account manager
    gets a task (in `GET /api/v1/tasks/?trigger=<id>`) or an alert at once."""

    serializer_class = TriggerSerializer
    permission_classes = [permissions.IsAuthenticated, IsManager]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = TriggerRule.objects.select_related("campaign").order_by("name")

    def perform_destroy(self, instance):
        services.delete_rule(rule=instance, by=self.request.user)
