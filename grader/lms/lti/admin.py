from __future__ import annotations

from typing import Any

from django.contrib import admin

from grader.lms.lti.models import (
    LtiContext,
    LtiPlatform,
    LtiResourceLink,
    LtiScorePost,
    LtiUser,
)
from grader.lms.lti.services import lti_platform_generate_keys


@admin.register(LtiPlatform)
class LtiPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "issuer", "client_id", "course", "enabled")

    def save_model(self, request: Any, obj: LtiPlatform, form: Any, change: bool) -> None:
        if not obj.tool_private_key:
            lti_platform_generate_keys(platform=obj)
        super().save_model(request, obj, form, change)


@admin.register(LtiContext)
class LtiContextAdmin(admin.ModelAdmin):
    list_display = ("platform", "context_id", "title", "course")


@admin.register(LtiUser)
class LtiUserAdmin(admin.ModelAdmin):
    list_display = ("platform", "sub", "user", "created_at")
    search_fields = ("sub", "user__username")


@admin.register(LtiResourceLink)
class LtiResourceLinkAdmin(admin.ModelAdmin):
    list_display = ("platform", "resource_link_id", "assignment")


@admin.register(LtiScorePost)
class LtiScorePostAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "submission",
        "score_given",
        "score_maximum",
        "grading_progress",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    )
    list_filter = ("status",)
