"""API pieces shared by every app: the error format and the job status endpoint."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from .models import Job


def exception_handler(exc, context):
    """DRF's handler; domain validation errors raised by services become 400s as well."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "state", "stage", "progress", "processed", "total",
            "result", "errors", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


@extend_schema(tags=["jobs"])
class JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """State of a background job: its creator (or an admin) may read it."""
    serializer_class = JobSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Job.objects.none()
        user = self.request.user
        jobs = Job.objects.all()
        if user.is_superuser:  # admins are superusers (accounts.roles)
            return jobs
        return jobs.filter(created_by=user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, Http404) as error:  # a malformed UUID is simply not found
            raise Http404 from error
