"""Token sign-in for API clients: POST {username, password} → {token}; list and revoke your tokens."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api import DETAIL, FIELD_ERRORS
from core.clientip import client_ip
from core.parsers import JSONParser

from .models import ApiToken
from .roles import role_of
from .tokens import issue_token, revoke_token


class SignInThrottle(ScopedRateThrottle):
    """Counts per client address as core.clientip reads it (never a client-written header), in the
    shared cache (settings.CACHES), so neither a rotated X-Forwarded-For nor another worker resets it."""

    def get_ident(self, request):
        return client_ip(request)


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=80, required=False, allow_blank=True,
                                 help_text=gettext_lazy("A label for this token, e.g. the script that uses it."))

    def validate(self, data):
        user = authenticate(self.context["request"]._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(_("Unable to log in with provided credentials."), code="authorization")
        if role_of(user) is None:
            raise serializers.ValidationError(_("This account has no role; ask an admin."), code="authorization")
        data["user"] = user
        return data


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=gettext_lazy("Send as `Authorization: Token <token>`; shown only now."))
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class TokenView(APIView):
    """Exchange a username and password for a new API token (throttled per client address, and
    locked by axes after repeated failures)."""

    throttle_classes = [SignInThrottle]
    throttle_scope = "token"
    parser_classes = [JSONParser]
    authentication_classes = []  # the way in: it needs no token (and no session, so no CSRF)
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["auth"], auth=[], request=CredentialsSerializer,
                   responses={200: IssuedTokenSerializer, 400: FIELD_ERRORS, 429: DETAIL})
    def post(self, request, *args, **kwargs):
        credentials = CredentialsSerializer(data=request.data, context={"request": request})
        credentials.is_valid(raise_exception=True)
        token, key = issue_token(user=credentials.validated_data["user"],
                                 name=credentials.validated_data.get("name", ""))
        return Response({"token": key, "id": token.pk, "expires_at": token.expires_at})


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text=gettext_lazy("The token this request was sent with."))

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        return token == self.context["request"].auth


@extend_schema(tags=["auth"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your own API tokens (never another user's): list them, revoke one (DELETE)."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema; requests read get_queryset
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def destroy(self, request, *args, **kwargs):
        revoke_token(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
