from __future__ import annotations

from django.contrib import admin

from grader.feedback_loop.models import Flag, RegradeRequest, SavedComment


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("id", "feedback", "kind", "created_by", "created_at", "outcome")
    list_filter = ("kind", "outcome")


@admin.register(RegradeRequest)
class RegradeRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "submission", "test_key", "created_by", "created_at", "outcome")
    list_filter = ("outcome",)


@admin.register(SavedComment)
class SavedCommentAdmin(admin.ModelAdmin):
    list_display = ("id", "course", "assignment", "test_name", "category", "uses")
