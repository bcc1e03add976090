from __future__ import annotations

from django.apps import AppConfig


class FeedbackLoopConfig(AppConfig):
    """What happens after an explanation is released: students' flags and regrade requests,
    the teacher's reusable comments, and how the feedback did (precision, next attempts)."""

    name = "grader.feedback_loop"
    label = "feedback_loop"
