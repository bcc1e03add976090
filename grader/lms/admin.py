from __future__ import annotations

from django.contrib import admin

from grader.lms.models import ApiToken, CourseIntegration, WebhookAttempt, WebhookDelivery


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at")
    readonly_fields = ("prefix", "key_sha256")


@admin.register(CourseIntegration)
class CourseIntegrationAdmin(admin.ModelAdmin):
    list_display = ("course", "callback_url", "enabled")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("number", "started_at", "status_code", "error", "duration_ms")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "course", "event", "status", "attempts", "created_at")
    list_filter = ("status", "event")
    inlines = [WebhookAttemptInline]
