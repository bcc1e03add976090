from __future__ import annotations

from django.contrib import admin

from grader.submissions.models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "assignment", "student", "attempt", "status", "score", "created_at")
    list_filter = ("status",)
