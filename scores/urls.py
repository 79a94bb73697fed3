from django.urls import path

from . import views

app_name = "scores"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("customers/distribution/", views.list_distribution, name="list_distribution"),
    path("recompute/", views.recompute, name="recompute"),
    path("suggestion/accept/", views.accept_suggestion, name="accept_suggestion"),
]
