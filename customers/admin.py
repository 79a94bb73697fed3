from django.contrib import admin

from .models import Customer, Tag


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "branch", "owner", "assets", "lifecycle_stage"]
    list_filter = ["branch", "lifecycle_stage", "risk_level"]
    search_fields = ["external_id", "name", "phone"]
    raw_id_fields = ["owner"]
    show_full_result_count = False  # counting a million rows on every admin page is wasted time


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "category", "source"]
    list_filter = ["category", "source"]
    search_fields = ["slug", "name"]
