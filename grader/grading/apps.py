from __future__ import annotations

from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grader.grading"
    label = "grading"
