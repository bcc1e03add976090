from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "grader.ops"
    label = "ops"

    def ready(self) -> None:
        from django.conf import settings

        # The Celery app must exist before any task is sent, so that shared tasks bind to it
        # (the usual place, grader/__init__.py, would load Celery with the feedback core).
        import grader.celery  # noqa: F401

        if settings.LOG_FORMAT == "json":
            from grader.ops.logs import use_json_logs

            use_json_logs()
