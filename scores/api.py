"""REST API for scores (DESIGN.md "Scores, triggers and recommendations")."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import customers_visible_to

from .selectors import customer_scores, published_run

CHURN_MODEL = inline_serializer("ChurnModel", {
    "r": serializers.FloatField(), "alpha": serializers.FloatField(), "a": serializers.FloatField(),
    "b": serializers.FloatField(), "log_likelihood": serializers.FloatField(), "customers": serializers.IntegerField(),
    "as_of": serializers.DateField(), "fitted_at": serializers.DateTimeField(), "run": serializers.IntegerField(),
    "at_bound": serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy(
        "Parameters the fit stopped at a bound of its search range (the data carry little signal for them).")),
})
SCORE = inline_serializer("CustomerScoreItem", many=True, fields={
    "name": serializers.CharField(), "label": serializers.CharField(),
    "value": serializers.JSONField(allow_null=True), "explanation": serializers.CharField(),
    "inputs": serializers.DictField(),
})
CUSTOMER_SCORES = inline_serializer("CustomerScores", {
    "customer": serializers.IntegerField(), "run": serializers.IntegerField(), "as_of": serializers.DateField(),
    "computed_at": serializers.DateTimeField(), "scores": SCORE,
})


class ChurnModelView(APIView):
    """The BG/NBD model of the published run (time unit one week; purchases on one day are one)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CHURN_MODEL}, operation_id="scores_churn_model")
    def get(self, request):
        run = published_run()
        if run is None or not run.churn_model:
            raise NotFound(_("No churn model yet: run compute_scores once there are repeat purchases."))
        return Response({"at_bound": [], **run.churn_model, "as_of": run.as_of, "fitted_at": run.finished_at,
                         "run": run.pk})


class CustomerScoresView(APIView):
    """Each score of one customer (the caller must be allowed to see the customer) with its inputs."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CUSTOMER_SCORES}, operation_id="customers_scores")
    def get(self, request, pk: int):
        customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
        found = customer_scores(customer)
        if found is None:
            raise NotFound(_("No scores yet: run compute_scores first."))
        run = found["run"]
        return Response({"customer": customer.pk, "run": run.pk, "as_of": run.as_of, "computed_at": run.finished_at,
                         "scores": found["scores"]})
