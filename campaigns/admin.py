"""Admin: failure reasons are edited here; campaigns and tasks are shown read-only.

Campaigns are written only through save_campaign and the launch (the campaign pages and the
API), so that every rule holds; the admin is for looking, not for bypassing them.
"""

from django.contrib import admin

from .models import Campaign, FailureReason, Task


@admin.register(FailureReason)
class FailureReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "needs_text", "active", "position"]
    list_editable = ["active", "position"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "channel", "strategy", "task_count", "launched_at"]
    list_filter = ["status", "channel"]
    search_fields = ["name", "slug"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "campaign", "customer", "assignee", "status", "group", "contact_result", "response"]
    list_filter = ["status", "group"]
    raw_id_fields = ["campaign", "customer", "assignee"]
    show_full_result_count = False
