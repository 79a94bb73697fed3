from django.urls import path

from . import views

app_name = "activity"
urlpatterns = [
    path("products/", views.product_list, name="products"),
    path("products/<str:code>/", views.product_detail, name="product"),
    path("activity/import/", views.import_upload, name="import"),
    path("activity/import/<uuid:job_id>/", views.import_status, name="import_status"),
    path("activity/import/<uuid:job_id>/errors.csv", views.import_errors, name="import_errors"),
]
