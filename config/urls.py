"""Top-level URLs: pages per app, the API under /api/v1/, and the OpenAPI schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts.api import ApiTokenViewSet, TokenView
from activity.api import EventViewSet, ProductViewSet, TransactionViewSet
from campaigns.analytics.api import ReportViewSet
from campaigns.lifecycle.api import CampaignViewSet
from campaigns.lifecycle.views import home
from campaigns.recurring.api import TemplateViewSet
from campaigns.triggers.api import TriggerViewSet
from campaigns.workspace.api import TaskViewSet
from core.api import JobViewSet, SwaggerDocsView
from customers.api import CustomerViewSet, TagViewSet
from recommendations.api import AssociationRulesView, LookalikeView, NextBestView
from scores.api import ChurnModelView, CustomerScoresView
from segments.api import SegmentViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("tags", TagViewSet, basename="tag")
router.register("jobs", JobViewSet, basename="job")
router.register("segments", SegmentViewSet, basename="segment")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("tasks", TaskViewSet, basename="task")
router.register("reports", ReportViewSet, basename="reports")
router.register("auth/tokens", ApiTokenViewSet, basename="api-token-own")
router.register("products", ProductViewSet, basename="product")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("events", EventViewSet, basename="event")
router.register("triggers", TriggerViewSet, basename="trigger")
router.register("templates", TemplateViewSet, basename="template")

api_urls = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("scores/churn/model/", ChurnModelView.as_view(), name="api-churn-model"),
    path("customers/<int:pk>/scores/", CustomerScoresView.as_view(), name="api-customer-scores"),
    path("customers/<int:pk>/next-best/", NextBestView.as_view(), name="api-customer-next-best"),
    path("recommendations/rules/", AssociationRulesView.as_view(), name="api-recommendation-rules"),
    # Before the router: its segment detail route would take "lookalike" for an id.
    path("segments/lookalike/", LookalikeView.as_view(), name="api-segment-lookalike"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("customers.urls")),
    path("segments/", include("segments.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("", include("activity.urls")),
    path("scores/", include("scores.urls")),
    path("auto-tags/", include("autotags.urls")),
    path("recommendations/", include("recommendations.urls")),
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="api-docs"),
]

handler403 = "core.errors.forbidden"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
