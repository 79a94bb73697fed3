from django.urls import path

from . import views

app_name = "autotags"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("new/", views.rule_edit, name="new"),
    path("<int:pk>/", views.rule_edit, name="rule"),
    path("<int:pk>/delete/", views.rule_delete, name="delete"),
]
