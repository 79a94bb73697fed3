"""Segments API: preview, saved segments, members and crowd overlap (/api/v1/segments/)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsManager
from core import params
from customers.api import CustomerSerializer

from . import services
from .expression import ExpressionError
from .models import Segment
from .selectors import audience_profile, members_page, segments_list


def expression_error(error: ExpressionError) -> Response:
    return Response(error.as_dict(), status=status.HTTP_400_BAD_REQUEST)


class ExpressionInput(serializers.Serializer):
    expression = serializers.JSONField(required=False, help_text=_("The JSON tree, e.g. {\"tag\": \"vip\"}"))
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                 help_text=_("The text form, e.g. vip AND assets >= 1000000"))

    def validate(self, data):
        if "expression" not in data and not data.get("text"):
            raise serializers.ValidationError({"text": [_("Give an expression (JSON) or a text.")]})
        return data


class PreviewOutput(serializers.Serializer):
    count = serializers.IntegerField()
    took_ms = serializers.FloatField()
    total = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    text = serializers.CharField()
    expression = serializers.JSONField()
    sample = serializers.ListField(child=serializers.DictField())
    catching_up = serializers.BooleanField(help_text=gettext_lazy(
        "True while a large change is being indexed: the count is as of `as_of`, the figure before it."))
    as_of = serializers.DateTimeField(allow_null=True, help_text=gettext_lazy(
        "When the counting index last caught up with the data."))


class SegmentSerializer(serializers.ModelSerializer):
    expression = serializers.JSONField(required=False)
    text = serializers.CharField(required=False, allow_blank=True)
    count = serializers.SerializerMethodField()
    problem = serializers.SerializerMethodField(help_text=_("Why the segment cannot be evaluated now (e.g. a tag "
                                                            "it names was deleted outside LoopCRM), or null."))

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "kind", "expression", "text", "count", "problem", "snapshot_at",
                  "snapshot_count", "origin", "created_at", "updated_at"]
        read_only_fields = ["id", "snapshot_at", "snapshot_count", "origin", "created_at", "updated_at"]

    def get_count(self, segment) -> int | None:
        return self._evaluated(segment)[0]

    def get_problem(self, segment) -> str | None:
        return self._evaluated(segment)[1]

    def _evaluated(self, segment) -> tuple[int | None, str | None]:
        """(count, problem), once per segment: one that cannot be evaluated is listed with its problem
        and leaves the others listed (the whole list answered 400)."""
        cache = self.context.setdefault("evaluated", {})
        if segment.pk not in cache:
            try:
                cache[segment.pk] = (services.segment_audience(segment).count, None)
            except ExpressionError as error:
                cache[segment.pk] = (None, str(error))
        return cache[segment.pk]

    def validate(self, data):
        if self.instance is None and "expression" not in data and not data.get("text"):
            raise serializers.ValidationError({"text": [_("Give an expression (JSON) or a text.")]})
        return data

    def save_segment(self, instance=None):
        data = self.validated_data
        expression = data.get("expression")
        text = data.get("text") or None
        if instance is not None and expression is None and text is None:
            expression = instance.expression
        current = {"name": "", "description": "", "kind": Segment.Kind.DYNAMIC}
        if instance is not None:
            current = {"name": instance.name, "description": instance.description, "kind": instance.kind}
        return services.save_segment(
            name=data.get("name", current["name"]), description=data.get("description", current["description"]),
            kind=data.get("kind", current["kind"]), expression=expression, text=text,
            by=self.context["request"].user, segment=instance,
        )


class ProfileRowSerializer(serializers.Serializer):
    key = serializers.JSONField(help_text=_("The value (branch code, stage, level, owner id, tier), null for none."))
    label = serializers.CharField()
    audience = serializers.IntegerField()
    all = serializers.IntegerField()
    audience_share = serializers.FloatField(allow_null=True)
    all_share = serializers.FloatField(allow_null=True)


class ProfileSerializer(serializers.Serializer):
    audience = serializers.IntegerField()
    total = serializers.IntegerField()
    branch = ProfileRowSerializer(many=True)
    lifecycle_stage = ProfileRowSerializer(many=True)
    risk_level = ProfileRowSerializer(many=True)
    owner = ProfileRowSerializer(many=True)
    asset_tier = ProfileRowSerializer(many=True)
    lifecycle = ProfileRowSerializer(many=True, help_text=_("Scored lifecycle stage (published score run)"))
    intent_group = ProfileRowSerializer(many=True)
    consultation = ProfileRowSerializer(many=True)
    churn_risk = ProfileRowSerializer(many=True, help_text=_("Customers per fifth of churn risk"))
    risk_preference = ProfileRowSerializer(many=True)
    rfm_r = ProfileRowSerializer(many=True)
    rfm_f = ProfileRowSerializer(many=True)
    rfm_m = ProfileRowSerializer(many=True)


class OverlapInput(serializers.Serializer):
    crowds = serializers.ListField(
        child=serializers.DictField(), min_length=2, max_length=4,
        help_text=_("2–4 crowds, each {\"text\": …}, {\"expression\": …} or {\"segment\": id}"),
    )


@extend_schema(tags=["segments"])
class SegmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Saved segments (dynamic or snapshot) for marketing managers and admins."""

    serializer_class = SegmentSerializer
    permission_classes = [permissions.IsAuthenticated, IsManager]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return segments_list()

    def perform_create(self, serializer):
        serializer.instance = serializer.save_segment()

    def perform_update(self, serializer):
        serializer.instance = serializer.save_segment(serializer.instance)

    def perform_destroy(self, instance):
        services.delete_segment(segment=instance)

    def handle_exception(self, exc):
        if isinstance(exc, ExpressionError):
            return expression_error(exc)
        return super().handle_exception(exc)

    @extend_schema(request=ExpressionInput, responses={200: PreviewOutput})
    @action(detail=False, methods=["post"], serializer_class=ExpressionInput, pagination_class=None)
    def preview(self, request):
        """Count, share and a sample of the customers an expression selects; 400 with the position on a bad one."""
        data = ExpressionInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.preview(expression=data.validated_data.get("expression"),
                                  text=data.validated_data.get("text") or None)
        return Response(PreviewOutput(result).data)

    @extend_schema(responses={200: CustomerSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def members(self, request, pk=None):
        """The segment's customers, paginated (dynamic: as of now; snapshot: as frozen)."""
        audience = services.segment_audience(self.get_object())
        paginator = self.paginator
        page_size = paginator.get_page_size(request) or 50
        page_number = params.page_number(request.query_params.get("page"))
        customers = members_page(audience.bitmap, offset=(page_number - 1) * page_size, limit=page_size,
                                 with_tags=True)
        return Response({
            "count": audience.count, "page": page_number, "page_size": page_size,
            "results": CustomerSerializer(customers, many=True, context={"request": request}).data,
        })

    @extend_schema(request=None, responses={200: SegmentSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Take a snapshot segment's members again from today's data."""
        segment = services.refresh_snapshot(segment=self.get_object())
        return Response(SegmentSerializer(segment, context={"request": request}).data)

    @extend_schema(responses={200: ProfileSerializer})
    @action(detail=True, methods=["get"])
    def profile(self, request, pk=None):
        """The audience by branch, lifecycle, risk, asset tier and owner, beside all customers."""
        profile = audience_profile(services.segment_audience(self.get_object()).bitmap)
        return Response(ProfileSerializer(profile).data)

    @extend_schema(request=OverlapInput, responses={200: inline_serializer("Overlap", {
        "crowds": serializers.ListField(child=serializers.DictField()), "total": serializers.IntegerField(),
        "cells": serializers.ListField(child=serializers.DictField())})})
    @action(detail=False, methods=["post"], serializer_class=OverlapInput, pagination_class=None)
    def overlap(self, request):
        """Sizes of every combination of 2–4 crowds (in / not in each)."""
        data = OverlapInput(data=request.data)
        data.is_valid(raise_exception=True)
        crowds = []
        for index, crowd in enumerate(data.validated_data["crowds"]):
            if "segment" in crowd:
                segment = segments_list().filter(pk=params.object_id(crowd["segment"]) or 0).first()
                if segment is None:
                    raise serializers.ValidationError({"crowds": {index: [_("Unknown segment.")]}})
                crowds.append({"segment": segment})
            else:
                crowds.append({"expression": crowd.get("expression"), "text": crowd.get("text")})
        return Response(services.overlap(crowds=crowds))
