"""REST API for activity (DESIGN.md "Activity data"): products, and batches of transactions and events."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import IsManager, IsManagerOrReadOnly

from . import services
from .ingest import ALIASES
from .models import Event, Product, Transaction
from .selectors import events_visible_to, transactions_visible_to


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["code", "name", "type", "risk_level", "term_days", "min_amount", "launch_date", "maturity_date",
                  "status"]

    def validate_code(self, value):
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError(_("The code of a product cannot change."))
        return value

    def validate(self, attrs):
        launch = attrs.get("launch_date", getattr(self.instance, "launch_date", None))
        maturity = attrs.get("maturity_date", getattr(self.instance, "maturity_date", None))
        if launch and maturity and maturity < launch:
            raise serializers.ValidationError({"maturity_date": [_("The maturity date is before the launch.")]})
        return attrs


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Products: everyone signed in reads; marketing managers and admins create and edit."""

    serializer_class = ProductSerializer
    permission_classes = [IsAuthenticated, IsManagerOrReadOnly]
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
    queryset = Product.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.save_product(product=Product(), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.save_product(product=serializer.instance, **serializer.validated_data)


class TransactionSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    customer = serializers.CharField(source="customer.external_id")
    product = serializers.CharField(source="product.code", allow_null=True, default=None)

    class Meta:
        model = Transaction
        fields = ["id", "customer", "product", "kind", "amount", "occurred_at", "occurred_on", "channel"]


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    customer = serializers.CharField(source="customer.external_id")

    class Meta:
        model = Event
        fields = ["id", "customer", "type", "occurred_at", "occurred_on", "properties"]


BATCH_REQUEST = inline_serializer("ActivityBatch", {"items": serializers.ListField(
    child=serializers.DictField(), max_length=services.MAX_BATCH_ITEMS)})
BATCH_RESPONSE = inline_serializer("ActivityBatchResult", {
    "accepted": serializers.IntegerField(), "duplicates": serializers.IntegerField(),
    "rejected": inline_serializer("ActivityBatchRejected", {
        "index": serializers.IntegerField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    }, many=True),
})
API_NAMES = {column: alias for alias, column in ALIASES.items()}


class _BatchViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """GET lists what is stored (an account manager: their own customers'); POST ingests a batch."""

    kind = ""

    def get_permissions(self):
        return [IsAuthenticated(), IsManager()] if self.request.method == "POST" else [IsAuthenticated()]

    def create(self, request):
        items = request.data.get("items") if isinstance(request.data, dict) else None
        try:
            report = services.ingest_batch(self.kind, items)
        except ValueError as error:
            return Response({"items": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        rejected = {}
        for error in report.errors:
            field = API_NAMES.get(error["column"], error["column"])
            rejected.setdefault(error["row"] - 1, {}).setdefault(field, []).append(error["message"])
        return Response({"accepted": report.accepted, "duplicates": report.duplicates,
                         "rejected": [{"index": index, "errors": errors} for index, errors in sorted(rejected.items())]},
                        status=status.HTTP_202_ACCEPTED)


@extend_schema(methods=["POST"], request=BATCH_REQUEST, responses={202: BATCH_RESPONSE})
class TransactionViewSet(_BatchViewSet):
    kind = "transactions"
    serializer_class = TransactionSerializer

    def get_queryset(self):
        return transactions_visible_to(self.request.user).order_by("-occurred_at", "-id")


@extend_schema(methods=["POST"], request=BATCH_REQUEST, responses={202: BATCH_RESPONSE})
class EventViewSet(_BatchViewSet):
    kind = "events"
    serializer_class = EventSerializer

    def get_queryset(self):
        return events_visible_to(self.request.user).order_by("-occurred_at", "-id")
