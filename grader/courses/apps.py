from __future__ import annotations

from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "grader.courses"
    label = "courses"
