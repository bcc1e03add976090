"""Events between apps: the app where something happens emits it; the apps that react to it
subscribe in settings, so grading and feedback never import the LMS integration.

- ``submission.graded`` (``settings.GRADED_HOOKS``): a submission's results are stored.
- ``feedback.released`` (``settings.FEEDBACK_RELEASED_HOOKS``): a student can read its
  explanation.

A subscriber is a dotted path to a function taking the submission id. Subscribers run once the
emitting transaction commits (at once outside one), so they never see, or send, what a
rollback undid; they read the rows again when they run. One failing subscriber is logged and
neither undoes the event nor stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

GRADED = "submission.graded"
FEEDBACK_RELEASED = "feedback.released"
# event → the setting that lists its subscribers (read when the event runs: tests override it)
SUBSCRIBERS = {GRADED: "GRADED_HOOKS", FEEDBACK_RELEASED: "FEEDBACK_RELEASED_HOOKS"}


def subscribers(event: str) -> list[str]:
    """The dotted paths ``event``'s setting lists now."""
    return list(getattr(settings, SUBSCRIBERS[event]))


def emit(event: str, *, submission_id: int, only_if: Callable[[], bool] | None = None) -> None:
    """Run ``event``'s subscribers with ``submission_id`` after the current transaction
    commits. ``only_if``, asked then, can call them off (the row changed in the meantime)."""
    SUBSCRIBERS[event]  # an unknown event fails here, in the emitter, not after commit

    def run() -> None:
        if only_if is not None and not only_if():
            logger.info("%s for submission %s: nothing to send", event, submission_id)
            return
        for path in subscribers(event):
            try:
                import_string(path)(submission_id)
            except Exception:
                logger.exception("%s subscriber %s failed for submission %s",
                                 event, path, submission_id)

    transaction.on_commit(run)
