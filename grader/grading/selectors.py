"""What each role may see of a submission's results."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from grader.courses.release import ReleaseState, release_state
from grader.grading.models import TestResult
from grader.submissions.models import Submission


@dataclass
class ResultsView:
    shown: list[TestResult]
    hidden_count: int
    # None while the assignment's release policy withholds it (``release.withheld``).
    hidden_score: float | None
    hidden_max: float
    # The total this viewer may see: None before release (it would give hidden points away)
    # and for a submission that has no score.
    score: float | None = None
    max_score: float | None = None
    # The student's release state (None for staff, who see everything).
    release: ReleaseState | None = None
    # Of the hidden tests: after-due-date ones, shown once the student's own deadline passed.
    after_due_count: int = 0

    @property
    def withheld(self) -> bool:
        return self.release is not None and self.release.withheld

    @property
    def shown_score(self) -> float:
        return sum(r.score for r in self.shown)

    @property
    def shown_max(self) -> float:
        return sum(r.max_score for r in self.shown)

    @property
    def shown_passed(self) -> int:
        return sum(r.passed for r in self.shown)

    @property
    def all_shown_passed(self) -> bool:
        """Every test this viewer sees passed: for a student with hidden tests left, that is
        "all public tests passed", never "all tests passed"."""
        return bool(self.shown) and self.shown_passed == len(self.shown)


def results_for_viewer(*, submission: Submission, staff: bool) -> ResultsView:
    """Staff see every test and the score. Students see visible tests and sanity checks, and
    after-due-date tests once their own deadline (extension included) has passed; of the others
    only a count and, once the release policy releases them (grader.courses.release), their
    points and the total score. Never a hidden test's name or output. A submission that could
    not be graded shows students nothing: its results are the package's or the harness's errors
    (they may quote hidden tests), or an older grading's."""
    graded = submission.status == Submission.Status.GRADED
    score = submission.score if graded else None
    max_score = submission.max_score if graded else None
    if not staff and submission.status in Submission.NOT_GRADED_STATUSES:
        return ResultsView([], 0, 0.0, 0.0)
    results = list(submission.results.all())
    if staff:
        return ResultsView(results, 0, 0.0, 0.0, score=score, max_score=max_score)
    assignment = submission.assignment
    release = release_state(assignment=assignment, student=submission.student)
    due = assignment.due_for(submission.student)
    past_due = due is not None and due <= timezone.now()
    shown, hidden = [], []
    for r in results:
        if r.visibility == TestResult.Visibility.VISIBLE or r.sanity or (
            r.visibility == TestResult.Visibility.AFTER_DUE_DATE and past_due
        ):
            shown.append(r)
        else:
            hidden.append(r)
    return ResultsView(
        shown,
        len(hidden),
        None if release.withheld else sum(r.score for r in hidden),
        sum(r.max_score for r in hidden),
        score=None if release.withheld else score,
        max_score=max_score,
        release=release,
        after_due_count=sum(r.visibility == TestResult.Visibility.AFTER_DUE_DATE for r in hidden),
    )
