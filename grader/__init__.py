"""The Django project. The Celery app (``grader.celery``) is loaded by the ops app's ``ready()``,
not imported here, so that importing the Django-free parts (``sandbox``, the feedback core)
loads neither Django nor Celery; ``celery -A grader`` finds ``grader.celery`` by itself."""

from __future__ import annotations
