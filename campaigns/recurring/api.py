"""Recurring templates API for marketing managers: `GET|POST /api/v1/templates/`, one template's GET and
PATCH, `POST …/{id}/approve/`, and `GET …/{id}/waves/` (each wave's figures and all of them together)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsManager
from accounts.selectors import account_managers
from activity.models import Product
from campaigns.analytics.metrics import jsonable
from campaigns.errors import CampaignError
from campaigns.models import CampaignTemplate
from segments.expression import ExpressionError
from segments.models import Segment

from . import selectors, services


class TemplateSerializer(serializers.ModelSerializer):
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), allow_null=True, required=False,
                                                 help_text=_("A saved segment as the crowd (or give `text`)."))
    text = serializers.CharField(required=False, allow_blank=True,
                                 help_text=_("The crowd as text, e.g. recency_days >= 180 AND assets >= 20000"))
    account_managers = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=account_managers(), required=False,
        help_text=_("Usernames of the account managers for round_robin / least_open / branch."))
    products = serializers.SlugRelatedField(many=True, slug_field="code", queryset=Product.objects.all(),
                                            required=False, help_text=_("Codes of the products promoted."))
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CampaignTemplate
        fields = ["id", "name", "plan", "segment", "text", "expression", "channel", "weekday", "window_start",
                  "window_end", "priority", "script", "holdout_pct", "strategy", "account_managers",
                  "frequency_cap_days", "purpose", "products", "attribution_days", "cost_fixed", "cost_per_contact",
                  "value_per_conversion", "active", "owner", "approved_by", "approved_at", "created_at", "updated_at"]
        read_only_fields = ["id", "expression", "owner", "approved_by", "approved_at", "created_at", "updated_at"]

    def validate(self, attrs):
        return attrs  # every rule of a template's settings is services.save_template's

    def _save(self, template: CampaignTemplate, data: dict) -> CampaignTemplate:
        managers = data.pop("account_managers", None)
        products = data.pop("products", None)
        if data.get("segment"):
            data.setdefault("text", "")
        elif "text" in data:
            data["segment"] = None
        if "segment" in data or "text" in data:
            template.expression = None  # the service reads the text
        for name, value in data.items():
            setattr(template, name, value)
        if managers is None and template.pk:
            managers = list(template.account_managers.all())
        return services.save_template(template=template, by=self.context["request"].user, managers=managers,
                                      products=products)

    def create(self, validated_data):
        return self._save(CampaignTemplate(), dict(validated_data))

    def update(self, instance, validated_data):
        return self._save(instance, dict(validated_data))


@extend_schema(tags=["templates"])
class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Recurring campaign templates: beat launches each as a wave (a campaign) when its contact window opens."""

    serializer_class = TemplateSerializer
    permission_classes = [permissions.IsAuthenticated, IsManager]
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = (CampaignTemplate.objects.select_related("owner", "approved_by")
                .prefetch_related("account_managers", "products").order_by("weekday", "window_start", "name"))

    def handle_exception(self, exc):
        if isinstance(exc, CampaignError):
            code = status.HTTP_409_CONFLICT if exc.conflict else status.HTTP_400_BAD_REQUEST
            return Response({"detail": str(exc)}, status=code)
        if isinstance(exc, ExpressionError):
            return Response(exc.as_dict() | {"text": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    @extend_schema(request=None, responses={200: TemplateSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The checker's approval (a marketing manager other than the owner); 409 when refused."""
        template = services.approve_template(template=self.get_object(), by=request.user)
        return Response(TemplateSerializer(template, context={"request": request}).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def waves(self, request, pk=None):
        """`{waves: [{campaign, wave_date, status, figures}], together}`: each wave's figures (as the campaign
        stats have them) and the waves together (sums, rates from the sums, pooled uplift)."""
        rows, together = selectors.template_waves(self.get_object())
        return Response(jsonable({
            "waves": [{"campaign": row["wave"].pk, "wave_date": row["wave"].wave_date.isoformat(),
                       "status": row["wave"].status, "figures": row["figures"]} for row in rows],
            "together": together}))
