from __future__ import annotations

from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "grader.lms"
    label = "lms"
