"""Graded submissions with results and feedback, stored as the workers would store them."""

from __future__ import annotations

from typing import Any

from grader.feedback.models import Feedback
from grader.grading.models import TestResult
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

CODE = b"def add(a, b):\n    if a < 0:\n        return b - a\n    return a + b\n"
REPAIR = "        return SECRET_REPAIR + a"

# (name, visibility, passed, max points)
TESTS = [
    ("test_positive", "visible", True, 1),
    ("test_negative", "visible", False, 1),
    ("SECRET-hidden-name", "hidden", False, 2),
]


def graded(world: Any, student: Any, tests: list[tuple[str, str, bool, int]] = TESTS,
           code: bytes = CODE) -> Submission:
    submission = submission_create(assignment=world.assignment, student=student,
                                   uploads=[("solution.py", code)])
    for i, (name, visibility, passed, points) in enumerate(tests):
        TestResult.objects.create(
            submission=submission, position=i, name=name, kind="pytest",
            score=points if passed else 0, max_score=points,
            verdict="passed" if passed else "failed", visibility=visibility,
            output=_output(name, visibility, passed),
        )
    score = sum(p for _, _, ok, p in tests if ok)
    Submission.objects.filter(pk=submission.pk).update(
        status="graded", score=score, max_score=sum(p for *_, p in tests)
    )
    submission.refresh_from_db()
    return submission


def _output(name: str, visibility: str, passed: bool) -> str:
    if passed:
        return ""
    if visibility == "hidden":  # marked, so a test can tell it never reached a student
        secret = "SECRET" in name
        return f"SECRET-output-of-{name}" if secret else "assert add(-10**9, 1) == -999999999"
    return f"assert add(-1, 1) == 0 ({name})"


def feedback(submission: Submission, *, status: str = Feedback.Status.RELEASED,
             grounding: str = "test_negative", category: str = "wrong_operator",
             repair: str = REPAIR) -> Feedback:
    return Feedback.objects.create(
        submission=submission, status=status, line=3, category=category,
        explanation="Line 3 subtracts a from b; for add(-1, 1) that gives 2.",
        hint="Check the sign.", agreement=1.0, samples_count=3, verification="validated",
        repair=repair, repair_source="search", grounding_test=grounding,
        explanation_source="template",
        candidates=[{"line": 3, "text": repair, "status": "validated", "fixed": [grounding],
                     "still_failing": 0, "broke": 0, "checked_passing": 1}],
        voters=[{"line": 3, "origin": "search", "status": "validated", "repair": repair}],
    )
