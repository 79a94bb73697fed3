from django.urls import path

from . import views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="list"),
    path("builder/", views.builder, name="builder"),
    path("builder/preview/", views.builder_preview, name="preview"),
    path("builder/edit/", views.builder_edit, name="edit"),
    path("overlap/", views.overlap, name="overlap"),
    path("<int:pk>/", views.segment_detail, name="detail"),
    path("<int:pk>/edit/", views.builder, name="edit_segment"),
    path("<int:pk>/refresh/", views.segment_refresh, name="refresh"),
    path("<int:pk>/delete/", views.segment_delete, name="delete"),
    path("<int:pk>/export.csv", views.segment_export, name="export"),
]
