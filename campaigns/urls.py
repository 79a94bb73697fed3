from django.urls import path

from campaigns.analytics import views as analytics
from campaigns.lifecycle import views as lifecycle
from campaigns.workspace import views as workspace

app_name = "campaigns"

urlpatterns = [
    path("", lifecycle.campaign_list, name="list"),
    path("new/", lifecycle.campaign_form, name="create"),
    path("audience/", lifecycle.campaign_audience, name="audience"),
    path("reports/", analytics.dashboard, name="reports"),
    path("reports/weekly/", analytics.weekly, name="weekly"),
    path("reports/history/", analytics.history_import, name="history_import"),
    path("reports/history/<uuid:job_id>/", analytics.history_status, name="history_status"),
    path("my-tasks/", workspace.my_tasks, name="my_tasks"),
    path("my-tasks/work/", workspace.work, name="work"),
    path("my-tasks/views/", workspace.save_view, name="save_view"),
    path("my-tasks/views/<int:pk>/delete/", workspace.delete_view, name="delete_view"),
    path("my-tasks/<int:pk>/", workspace.panel, name="panel"),
    path("my-tasks/<int:pk>/outcome/", workspace.save_outcome, name="outcome"),
    path("my-tasks/<int:pk>/start/", workspace.start_task, name="start_task"),
    path("<int:pk>/", lifecycle.campaign_detail, name="detail"),
    path("<int:pk>/edit/", lifecycle.campaign_form, name="edit"),
    path("<int:pk>/launch/", lifecycle.campaign_launch, name="launch"),
    path("<int:pk>/job/", lifecycle.campaign_job, name="job"),
    path("<int:pk>/tasks/", workspace.campaign_tasks, name="tasks"),
    path("<int:pk>/tasks.csv", workspace.campaign_tasks_export, name="tasks_export"),
    path("<int:pk>/tag-results/", analytics.campaign_tag_results, name="tag_results"),
    path("<int:pk>/<slug:action>/", lifecycle.campaign_action, name="action"),
]
