"""The Celery app.

Workers: ``celery -A grader worker -Q grading,batch`` (add ``-B`` on exactly one of them, or run
``celery -A grader beat`` once, for the periodic sweeper); feedback workers: ``-Q feedback``
(they need a sandbox to check repairs; on GPU hosts the model runs in ``vllm serve``).
"""

from __future__ import annotations

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grader.settings")

app = Celery("grader")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_dirs() -> None:
    """The file-system transport needs its folders before the first message."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL == "filesystem://":
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            os.makedirs(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]), exist_ok=True)


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _json_logs(logger: logging.Logger, **kwargs: object) -> None:
    """Celery replaces Django's logging in the worker; LOG_FORMAT=json applies there too."""
    from django.conf import settings

    if settings.LOG_FORMAT == "json":
        from grader.ops.logs import use_json_logs

        use_json_logs(logger)
