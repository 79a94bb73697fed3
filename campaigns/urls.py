from django.urls import path

from . import report_views, views, workspace

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_form, name="create"),
    path("audience/", views.campaign_audience, name="audience"),
    path("reports/", report_views.dashboard, name="reports"),
    path("reports/weekly/", report_views.weekly, name="weekly"),
    path("reports/history/", report_views.history_import, name="history_import"),
    path("reports/history/<uuid:job_id>/", report_views.history_status, name="history_status"),
    path("my-tasks/", workspace.my_tasks, name="my_tasks"),
    path("my-tasks/work/", workspace.work, name="work"),
    path("my-tasks/views/", workspace.save_view, name="save_view"),
    path("my-tasks/views/<int:pk>/delete/", workspace.delete_view, name="delete_view"),
    path("my-tasks/<int:pk>/", workspace.panel, name="panel"),
    path("my-tasks/<int:pk>/outcome/", workspace.save_outcome, name="outcome"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_form, name="edit"),
    path("<int:pk>/launch/", views.campaign_launch, name="launch"),
    path("<int:pk>/job/", views.campaign_job, name="job"),
    path("<int:pk>/tasks/", views.campaign_tasks, name="tasks"),
    path("<int:pk>/tasks.csv", views.campaign_tasks_export, name="tasks_export"),
    path("<int:pk>/tag-results/", views.campaign_tag_results, name="tag_results"),
    path("<int:pk>/<slug:action>/", views.campaign_action, name="action"),
]
