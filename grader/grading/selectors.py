"""What each role may see of a submission's results."""

from __future__ import annotations

from dataclasses import dataclass

from grader.grading.models import TestResult
from grader.submissions.models import Submission


@dataclass
class ResultsView:
    shown: list[TestResult]
    hidden_count: int
    hidden_score: float
    hidden_max: float

    @property
    def shown_passed(self) -> int:
        return sum(r.passed for r in self.shown)

    @property
    def all_shown_passed(self) -> bool:
        """Every test this viewer sees passed: for a student with hidden tests left, that is
        "all public tests passed", never "all tests passed"."""
        return bool(self.shown) and self.shown_passed == len(self.shown)


def results_for_viewer(*, submission: Submission, staff: bool) -> ResultsView:
    """Staff see every test. Students see visible tests (and after-due-date ones once it has
    passed); of the others only a count and the points, never names or output. A submission
    that could not be graded shows students nothing: its results are the package's or the
    harness's errors (they may quote hidden tests), or an older grading's."""
    if not staff and submission.status in Submission.NOT_GRADED_STATUSES:
        return ResultsView([], 0, 0.0, 0.0)
    results = list(submission.results.all())
    if staff:
        return ResultsView(results, 0, 0.0, 0.0)
    past_due = submission.assignment.is_past_due
    shown, hidden = [], []
    for r in results:
        if r.visibility == TestResult.Visibility.VISIBLE or (
            r.visibility == TestResult.Visibility.AFTER_DUE_DATE and past_due
        ):
            shown.append(r)
        else:
            hidden.append(r)
    return ResultsView(
        shown,
        len(hidden),
        sum(r.score for r in hidden),
        sum(r.max_score for r in hidden),
    )
