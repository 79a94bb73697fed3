"""API pieces shared by every app: the error format (and its place in the schema) and the job status
endpoint."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from .middleware import POLICY
from .models import Job
from .selectors import jobs_visible_to


def exception_handler(exc, context):
    """DRF's handler; domain validation errors raised by services become 400s as well."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


# Error bodies, as every endpoint answers them (declared on every operation by `declare_errors`).
DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each field with its messages (`detail` for errors of the whole request); an "
                   "expression error adds `position` (0-based character) and `path` (where in the JSON tree).",
    "properties": {"detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                   "position": {"type": "integer", "nullable": True},
                   "message": {"type": "string"},
                   "path": {"type": "string", "nullable": True}},
    "additionalProperties": {},
}
ERRORS = {
    "400": ("ValidationErrorBody", FIELD_ERRORS, "Invalid input: what is wrong, field by field; nothing was changed."),
    "401": ("ErrorDetail", DETAIL, "Not signed in (no or a wrong token)."),
    "403": ("ErrorDetail", DETAIL, "Signed in, but this role may not do this."),
    "404": ("ErrorDetail", DETAIL, "No such object, or not one of yours (an account manager sees only their own)."),
}


def declare_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation declares its error answers and their
    bodies (the ones it does not declare itself), so a generated client can read them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema, _description in ERRORS.values():
        schemas.setdefault(name, schema)
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            public_operation = not operation.get("security") or operation["security"] == [{}]  # e.g. the token
            for status, (name, _schema, description) in ERRORS.items():
                if public_operation and status in ("401", "403", "404"):
                    continue
                responses.setdefault(status, {"description": description, "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}})
    return result


class ConflictSerializer(serializers.Serializer):
    """409: the request clashes with the object's state (e.g. a campaign already launched)."""

    detail = serializers.CharField()


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
        return jobs_visible_to(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, Http404) as error:  # a malformed UUID is simply not found
            raise Http404 from error


class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/. It sets style attributes from its own script (never from data), which
    the site's policy blocks; this page alone allows inline styles — still no inline script.

    Its HTML renderer has no template for errors, so an error answer (405, 406, or a refusal of an
    anonymous reader in production) was a 500: errors answer plain text, and an anonymous reader is
    sent to sign in."""

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)) or (
                isinstance(exc, exceptions.PermissionDenied) and not self.request.user.is_authenticated):
            return redirect_to_login(self.request.get_full_path())
        if isinstance(exc, exceptions.APIException):
            return HttpResponse(str(exc.detail), status=exc.status_code, content_type="text/plain; charset=utf-8")
        return super().handle_exception(exc)

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = POLICY.replace("style-src 'self'",
                                                                     "style-src 'self' 'unsafe-inline'")
        return response
