from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export/", views.customer_export, name="export"),
    path("bulk/", views.customer_bulk_action, name="bulk"),
    path("bulk/changes/", views.bulk_change_list, name="bulk_changes"),
    path("bulk/changes/<int:pk>/undo/", views.bulk_change_undo, name="bulk_change_undo"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/tags/", views.customer_tags, name="customer_tags"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/new/", views.tag_create, name="tag_create"),
    path("tags/<int:pk>/edit/", views.tag_edit, name="tag_edit"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag_delete"),
    path("tags/merge/", views.tag_merge, name="tag_merge"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:job_id>/", views.import_status, name="import_status"),
    path("import/<uuid:job_id>/errors.csv", views.import_errors, name="import_errors"),
]
