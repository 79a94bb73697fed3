"""REST API for recommendations (DESIGN.md "Scores, triggers and recommendations")."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsManager
from core import params
from customers.selectors import customers_visible_to
from segments.selectors import segments_list

from . import selectors, services
from .associations import TooManyItemsets
from .features import GROUPS
from .forms import RuleQueryForm

MAX_SUGGESTIONS = 20
RULE = inline_serializer("AssociationRule", many=True, fields={
    "antecedent": serializers.ListField(child=serializers.CharField()),
    "consequent": serializers.ListField(child=serializers.CharField()),
    "support": serializers.FloatField(), "confidence": serializers.FloatField(), "lift": serializers.FloatField(),
    "customers": serializers.IntegerField(help_text=_("Customers holding the antecedent and the consequent.")),
    "antecedent_support": serializers.FloatField(), "consequent_support": serializers.FloatField(),
    "opportunity": serializers.IntegerField(help_text=_("Customers with the antecedent who lack the consequent.")),
    "audience": serializers.CharField(help_text=_("The segment expression selecting them.")),
})
NEXT_BEST = inline_serializer("NextBestProduct", many=True, fields={
    "product": serializers.CharField(), "name": serializers.CharField(), "type": serializers.CharField(),
    "risk_level": serializers.IntegerField(), "score": serializers.FloatField(), "reason": serializers.CharField(),
    "basis": serializers.ChoiceField(choices=["similar", "popular"]), "evidence": serializers.DictField(),
})


def form_errors(form) -> Response:
    return Response({field: [str(message) for message in messages] for field, messages in form.errors.items()},
                    status=status.HTTP_400_BAD_REQUEST)


class AssociationRulesView(APIView):
    """Association rules over current holdings (or purchases: `basis=purchases`, `days=`), strongest
    lift first; support and confidence are fractions."""

    permission_classes = [IsAuthenticated, IsManager]

    @extend_schema(responses={200: RULE}, operation_id="recommendations_rules", parameters=[
        OpenApiParameter("min_support", float), OpenApiParameter("min_confidence", float),
        OpenApiParameter("basis", str, enum=list(selectors.BASES)), OpenApiParameter("days", int),
        OpenApiParameter("product_type", str), OpenApiParameter("branch", str), OpenApiParameter("max_items", int),
        OpenApiParameter("min_lift", float)])
    def get(self, request):
        query = request.query_params.copy()
        for name, default in (("min_support", 0.01), ("min_confidence", 0.3)):
            query.setdefault(name, str(default))
        form = RuleQueryForm(query)
        if not form.is_valid():
            return form_errors(form)
        try:
            found = selectors.rules(**form.rule_parameters())
        except TooManyItemsets:
            return Response({"min_support": [_("Too many product combinations at this support: raise it.")]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(found["rules"])


class NextBestView(APIView):
    """What to offer a customer next (suitable, on sale, not held), best first, each with its reason."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: NEXT_BEST}, operation_id="customers_next_best",
                   parameters=[OpenApiParameter("limit", int)])
    def get(self, request, pk: int):
        customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
        raw = request.query_params.get("limit")
        limit = params.object_id(raw) if raw is not None else 5
        if limit is None or not 1 <= limit <= MAX_SUGGESTIONS:
            return Response({"limit": [_("A whole number from 1 to %(max)d.") % {"max": MAX_SUGGESTIONS}]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(selectors.next_best(customer, limit=limit))


class LookalikeInput(serializers.Serializer):
    seed_segment = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    size = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=services.MAX_SIZE)
    min_score = serializers.FloatField(required=False, allow_null=True)
    features = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text=_("Any of attributes, tags, scores, behaviour (default: all)."))


class LookalikeView(APIView):
    """Start a lookalike of a seed segment → 202 {job}; the job's result names the new snapshot segment."""

    permission_classes = [IsAuthenticated, IsManager]

    @extend_schema(request=LookalikeInput, operation_id="segments_lookalike", responses={202: inline_serializer(
        "LookalikeJob", {"job": serializers.UUIDField(), "state": serializers.CharField()})})
    def post(self, request):
        data = LookalikeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        seed = segments_list().filter(pk=values["seed_segment"]).first()
        if seed is None:
            return Response({"seed_segment": [_("Unknown segment.")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            job = services.queue_lookalike(by=request.user, seed=seed, name=values.get("name", ""),
                                           size=values.get("size"), min_score=values.get("min_score"),
                                           features=values.get("features", list(GROUPS)))
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"job": str(job.pk), "state": job.state}, status=status.HTTP_202_ACCEPTED)
