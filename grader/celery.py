"""The Celery app. Workers: ``celery -A grader worker -Q grading``."""

from __future__ import annotations

import os

from celery import Celery

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
