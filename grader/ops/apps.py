from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "grader.ops"
    label = "ops"

    def ready(self) -> None:
        from django.conf import settings

        if settings.LOG_FORMAT == "json":
            from grader.ops.logs import use_json_logs

            use_json_logs()
