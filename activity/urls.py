from django.urls import path

from . import views

app_name = "activity"
urlpatterns = [
    path("", views.product_list, name="products"),
    path("<str:code>/", views.product_detail, name="product"),
]
