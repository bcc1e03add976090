"""When a student may see what an assignment's release policy withholds.

What is withheld until release: the points of hidden tests, the submission's total score (it
would give the hidden points away), after-due-date tests, and explanations. Visible tests and
sanity checks are shown at once. One rule, read by every place a student can see a score (the
submission page, the API, webhook payloads, LTI passback); the LMS side of a release (the full
score sent when it happens) is grader.lms.release, run by the periodic sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from grader.courses.models import Assignment


@dataclass(frozen=True)
class ReleaseState:
    policy: str
    released: bool
    # When it will be released: the student's own deadline (after_due), None when a teacher
    # releases it (after_review) or no due date is set yet.
    until: datetime | None = None
    extended: bool = False  # ``until`` is the student's extension

    @property
    def withheld(self) -> bool:
        return not self.released

    @property
    def waits_for_teacher(self) -> bool:
        return self.policy == Assignment.ReleasePolicy.AFTER_REVIEW

    def as_json(self) -> dict[str, Any]:
        """The shape the API, webhooks and LTI logs use."""
        return {
            "policy": self.policy,
            "released": self.released,
            "until": self.until.isoformat() if self.until else None,
            "extension": self.extended,
        }


def release_time(*, assignment: Assignment, student: Any) -> datetime | None:
    """When the student's withheld results are released by the clock, or None (a teacher's
    release, or no deadline set)."""
    if assignment.release_policy == Assignment.ReleasePolicy.AFTER_DUE:
        return assignment.due_for(student)
    return None


def release_state(
    *, assignment: Assignment, student: Any, now: datetime | None = None
) -> ReleaseState:
    """Whether ``student`` sees the withheld parts of their results on ``assignment`` now.

    after_due uses the student's own deadline (``Assignment.due_for``: an extension replaces
    the assignment's); an after_due assignment with no deadline stays withheld (never early).
    A teacher's "Release results now" releases every policy."""
    policy = assignment.release_policy
    if policy == Assignment.ReleasePolicy.IMMEDIATE or assignment.results_released_at:
        return ReleaseState(policy, True)
    if policy == Assignment.ReleasePolicy.AFTER_DUE:
        due = assignment.due_for(student)
        extended = due is not None and due != assignment.due_at
        released = due is not None and (now or timezone.now()) >= due
        return ReleaseState(policy, released, until=due, extended=extended)
    return ReleaseState(policy, False)
