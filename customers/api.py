"""REST API for customers, tags and imports (/api/v1/customers/, /api/v1/tags/)."""

import json

from django.db.models import Q
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Branch
from accounts.permissions import IsManagerOrReadOnly
from accounts.roles import is_manager
from accounts.selectors import account_managers
from core.api import JobSerializer

from . import services
from .filters import CustomerFilter
from .import_jobs import queue_import
from .importing import ENCODINGS, ImportFileError
from .listing import listed_customers
from .models import Channel, Customer, Tag
from .selectors import customers_visible_to, tags_with_counts


class CustomerSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", queryset=Branch.objects.all(), allow_null=True, required=False)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=account_managers(), allow_null=True,
                                         required=False, help_text=_("An active account manager's username."))
    tags = serializers.SerializerMethodField()
    age = serializers.IntegerField(read_only=True, allow_null=True)
    opted_out_channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), required=False)
    extra = serializers.DictField(required=False, help_text=_("Free-form attributes, e.g. {\"wechat_id\": \"wx_1\"}"))

    class Meta:
        model = Customer
        fields = [
            "id", "external_id", "name", "phone", "email", "gender", "birth_date", "age", "branch", "owner",
            "assets", "risk_level", "lifecycle_stage", "do_not_contact", "opted_out_channels", "extra",
            "tags", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_tags(self, customer) -> list[str]:
        return sorted(link.tag.slug for link in customer.tag_links.all())

    def validate_external_id(self, value):
        if self.instance is not None and value != self.instance.external_id:
            raise serializers.ValidationError(_("The external id of a customer cannot change."))
        return value

    def validate_owner(self, owner):
        request = self.context["request"]
        if not is_manager(request.user) and owner != request.user:
            raise serializers.ValidationError(_("Only a manager can give a customer to someone else."))
        return owner

    def create(self, validated_data):
        return services.save_customer(customer=Customer(), by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return services.save_customer(customer=instance, by=self.context["request"].user, **validated_data)


class CustomerImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    mapping = serializers.CharField(required=False, allow_blank=True,
                                    help_text=_("A JSON mapping of column → target, or a preset name (bank-marketing)."))
    delimiter = serializers.CharField(required=False, allow_blank=True, max_length=1)
    encoding = serializers.ChoiceField(choices=list(ENCODINGS.items()), required=False, allow_blank=True,
                                       help_text=_("The file's text encoding; blank: UTF-8, or GBK for a file "
                                                   "with no UTF-8 in it."))

    def validate_mapping(self, value):
        if not value or not value.strip().startswith("{"):
            return value or None
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise serializers.ValidationError(_("Not valid JSON: %(error)s") % {"error": error}) from error


@extend_schema(tags=["customers"])
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Customers: a manager sees everyone, an account manager only their own (404 otherwise)."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return customers_visible_to(self.request.user).prefetch_related("tag_links__tag").order_by("id")

    def filter_queryset(self, queryset):
        """A list is answered from the audience index where it can be (customers.listing); a filter
        that does not validate is a 400, as DjangoFilterBackend answers it."""
        if self.action != "list":
            return super().filter_queryset(queryset)
        filterset = DjangoFilterBackend().get_filterset(self.request, queryset, self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return listed_customers(filterset, self.request.user, with_tags=True)

    def create(self, request, *args, **kwargs):
        if not is_manager(request.user):
            self.permission_denied(request, message=_("Only managers can create customers."))
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": CustomerImportSerializer},
        responses={202: inline_serializer("ImportQueued", {"job": serializers.UUIDField(), "status": JobSerializer()})},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser],
            serializer_class=CustomerImportSerializer, filterset_class=None, pagination_class=None)
    def import_file(self, request):
        """Queue a CSV/XLSX import; poll /api/v1/jobs/{job}/ for progress and row errors."""
        if not is_manager(request.user):
            self.permission_denied(request, message=_("Only managers can import customers."))
        serializer = CustomerImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = queue_import(upload=serializer.validated_data["file"], by=request.user,
                               mapping=serializer.validated_data.get("mapping"),
                               delimiter=serializer.validated_data.get("delimiter") or None,
                               encoding=serializer.validated_data.get("encoding") or None)
        except ImportFileError as error:
            raise serializers.ValidationError({"file": [str(error)]}) from error
        job.refresh_from_db()
        return Response({"job": str(job.pk), "status": JobSerializer(job).data}, status=status.HTTP_202_ACCEPTED)


class TagSerializer(serializers.ModelSerializer):
    customer_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "slug", "name", "category", "source", "description", "customer_count", "created_at"]
        read_only_fields = ["id", "source", "customer_count", "created_at"]

    def create(self, validated_data):
        tag = services.create_tag(**validated_data)
        tag.customer_count = 0  # a new tag carries nobody (the list annotates the real count)
        return tag


@extend_schema(tags=["tags"], parameters=[OpenApiParameter("search", str, description=_("slug or name prefix"))])
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Tags with customer counts; managers create them, everyone may read."""

    serializer_class = TagSerializer
    permission_classes = [permissions.IsAuthenticated, IsManagerOrReadOnly]
    filterset_fields = ["category", "source"]

    def get_queryset(self):
        tags = tags_with_counts(self.request.user)
        search = self.request.query_params.get("search", "").strip()
        if search:
            tags = tags.filter(Q(slug__startswith=search.lower()) | Q(name__istartswith=search))
        return tags
