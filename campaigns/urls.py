from django.urls import path

from campaigns.analytics import views as analytics
from campaigns.lifecycle import views as lifecycle
from campaigns.recurring import views as recurring
from campaigns.triggers import views as triggers
from campaigns.workspace import views as workspace

app_name = "campaigns"

urlpatterns = [
    path("", lifecycle.campaign_list, name="list"),
    path("new/", lifecycle.campaign_form, name="create"),
    path("audience/", lifecycle.campaign_audience, name="audience"),
    path("reports/", analytics.dashboard, name="reports"),
    path("reports/weekly/", analytics.weekly, name="weekly"),
    path("reports/dormancy-goal/", analytics.dormancy_goal, name="dormancy_goal"),
    path("reports/history/", analytics.history_import, name="history_import"),
    path("reports/history/<uuid:job_id>/", analytics.history_status, name="history_status"),
    path("calendar/", recurring.calendar, name="calendar"),
    path("templates/new/", recurring.template_edit, name="template_new"),
    path("templates/<int:pk>/", recurring.template_edit, name="template"),
    path("templates/<int:pk>/approve/", recurring.template_approve, name="template_approve"),
    path("triggers/", triggers.rule_list, name="triggers"),
    path("triggers/new/", triggers.rule_edit, name="trigger_new"),
    path("triggers/<int:pk>/", triggers.rule_edit, name="trigger"),
    path("triggers/<int:pk>/delete/", triggers.rule_delete, name="trigger_delete"),
    path("contact-limits/", triggers.contact_limits, name="contact_limits"),
    path("contact-limits/<int:pk>/delete/", triggers.contact_limit_delete, name="contact_limit_delete"),
    path("pool/", triggers.pool, name="pool"),
    path("pool/<int:pk>/take/", triggers.pool_take, name="pool_take"),
    path("load/", triggers.manager_load, name="manager_load"),
    path("alerts/", triggers.alerts, name="alerts"),
    path("alerts/seen/", triggers.alerts_seen, name="alerts_seen"),
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
