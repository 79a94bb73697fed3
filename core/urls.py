from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("exports/<uuid:job_id>/", views.export_status, name="export_status"),
    path("exports/<uuid:job_id>/download/", views.export_download, name="export_download"),
]
