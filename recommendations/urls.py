from django.urls import path

from . import views

app_name = "recommendations"
urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("lookalike/", views.lookalike, name="lookalike"),
    path("lookalike/<uuid:pk>/", views.lookalike_status, name="lookalike_status"),
    path("customers/<int:pk>/next-best/", views.customer_next_best, name="customer_next_best"),
]
