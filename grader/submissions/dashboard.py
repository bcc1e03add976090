"""Reads for the teacher's assignment dashboard and grade export.

Every function runs a fixed number of queries whatever the number of submissions (a test
holds that line), so the page stays fast at 1,000 submissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from grader.courses.models import Assignment
from grader.grading.models import TestResult
from grader.submissions.models import Submission


@dataclass
class StudentRow:
    student: Any
    latest: Submission
    attempts: int
    due: datetime | None

    @property
    def late(self) -> bool:
        return self.due is not None and self.latest.created_at > self.due

    def final_score(self, penalty_percent: int) -> float | None:
        if self.latest.score is None:
            return None
        factor = 1 - penalty_percent / 100 if self.late else 1
        return round(self.latest.score * factor, 4)


@dataclass
class TestStat:
    name: str
    passed: int
    total: int
    visibility: str

    __test__ = False

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def failed(self) -> int:
        return self.total - self.passed


@dataclass
class Dashboard:
    rows: list[StudentRow]
    tests: list[TestStat]
    histogram: list[tuple[str, int]]
    queue: dict[str, int]
    total_submissions: int
    common_failures: list[TestStat] = field(default_factory=list)


def latest_per_student(
    *, assignment: Assignment, search: str = "", status: str = ""
) -> list[StudentRow]:
    """The latest submission of every student who submitted (2 queries)."""
    extensions = {e.student_id: e.due_at for e in assignment.extensions.all()}
    submissions = (
        Submission.objects.filter(assignment=assignment)
        .select_related("student")
        .order_by("student_id", "-attempt")
    )
    if search:
        submissions = submissions.filter(
            Q(student__username__icontains=search)
            | Q(student__first_name__icontains=search)
            | Q(student__last_name__icontains=search)
        )
    rows: dict[int, StudentRow] = {}
    for s in submissions:
        row = rows.get(s.student_id)
        if row is None:
            due = extensions.get(s.student_id, assignment.due_at)
            rows[s.student_id] = StudentRow(s.student, s, 1, due)
        else:
            row.attempts += 1
    result = sorted(rows.values(), key=lambda r: r.student.username)
    if status:
        result = [r for r in result if r.latest.status == status]
    return result


def _histogram(rows: list[StudentRow], bins: int = 10) -> list[tuple[str, int]]:
    counts = [0] * bins
    for r in rows:
        s = r.latest
        if s.score is None or not s.max_score:
            continue
        counts[min(int(s.score / s.max_score * bins), bins - 1)] += 1
    width = 100 // bins
    return [(f"{i * width}–{(i + 1) * width}%", c) for i, c in enumerate(counts)]


def assignment_dashboard(
    *, assignment: Assignment, search: str = "", status: str = ""
) -> Dashboard:
    rows = latest_per_student(assignment=assignment, search=search, status=status)
    # A submission that could not be graded has error rows, not test results: left out.
    not_graded = Submission.NOT_GRADED_STATUSES
    latest_ids = [r.latest.id for r in rows if r.latest.status not in not_graded]
    stats = (
        TestResult.objects.filter(submission_id__in=latest_ids)
        .values("name", "visibility")
        .annotate(
            n_passed=Count("id", filter=Q(verdict=TestResult.Verdict.PASSED)), total=Count("id")
        )
        .order_by("name")
    )
    tests = [TestStat(s["name"], s["n_passed"], s["total"], s["visibility"]) for s in stats]
    queue = dict(
        Submission.objects.filter(status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING])
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return Dashboard(
        rows=rows,
        tests=tests,
        histogram=_histogram(rows),
        queue={"queued": queue.get("queued", 0), "running": queue.get("running", 0)},
        total_submissions=Submission.objects.filter(assignment=assignment).count(),
        common_failures=sorted((t for t in tests if t.failed), key=lambda t: -t.failed)[:5],
    )
