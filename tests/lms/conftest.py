from __future__ import annotations

from typing import Any

import pytest

from grader.grading.models import TestResult
from grader.submissions.models import Submission
from grader.submissions.services import submission_create


def graded_submission(world: Any, student: Any) -> Submission:
    """A submission with one visible and one hidden result, stored as a worker would."""
    submission = submission_create(
        assignment=world.assignment,
        student=student,
        uploads=[("solution.py", b"def add(a, b): return a - b\n")],
    )
    TestResult.objects.create(
        submission=submission, position=0, name="visible one", kind="io", score=0,
        max_score=1, verdict="failed", visibility="visible", output="expected '5', got '-1'",
    )
    TestResult.objects.create(
        submission=submission, position=1, name="SECRET-hidden-name", kind="io", score=0,
        max_score=2, verdict="failed", visibility="hidden", output="SECRET-hidden-output",
    )
    Submission.objects.filter(pk=submission.pk).update(status="graded", score=0, max_score=3)
    submission.refresh_from_db()
    return submission


@pytest.fixture
def graded(world: Any) -> Submission:
    return graded_submission(world, world.alice)
