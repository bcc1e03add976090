"""Reads for submissions and the teacher's assignment dashboard and grade export.

Query counts stay constant in the number of rows shown: every dashboard function runs a fixed
number of queries whatever the number of submissions (a test holds that line), so the page
stays fast at 1,000 submissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from grader.courses.models import Assignment
from grader.grading.models import TestResult
from grader.submissions.models import Submission, SubmissionFile


def attempts_used(*, assignment: Assignment, student: Any) -> int:
    """Attempts that count (``Submission.uses_attempt``): everything except submissions that
    did not compile and those that could not be graded (UNGRADABLE, FAILED_INFRA). Queued and
    running ones count, so two uploads at once cannot both take the last attempt."""
    return (
        Submission.objects.filter(assignment=assignment, student=student, gradable=True)
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .count()
    )


def cooldown_left(*, assignment: Assignment, student: Any) -> timedelta | None:
    """Time until ``student`` may submit again, or None. Uploads that did not compile count
    too: the cooldown paces attempts at the grader, not at the score. Submissions that could
    not be graded do not: the student did nothing wrong and may submit again at once."""
    if not assignment.cooldown_minutes:
        return None
    last = (
        Submission.objects.filter(assignment=assignment, student=student)
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return None
    left = last + timedelta(minutes=assignment.cooldown_minutes) - timezone.now()
    return left if left.total_seconds() > 0 else None


def _window_wait(created: list[datetime], *, limit: int, minutes: int) -> timedelta | None:
    """With ``created`` newest first: time until fewer than ``limit`` of them are inside the
    last ``minutes``, or None when that is already so (``limit`` 0: no limit)."""
    if not limit or len(created) < limit:
        return None
    left = created[limit - 1] + timedelta(minutes=minutes) - timezone.now()
    return left if left.total_seconds() > 0 else None


def failed_builds_wait(*, assignment: Assignment, student: Any) -> timedelta | None:
    """Time until ``student`` may upload to ``assignment`` again after FAILED_BUILD_LIMIT
    uploads that did not compile within FAILED_BUILD_WINDOW_MINUTES, or None. A failed build
    uses no attempt, so without this a student could keep the build step busy forever."""
    minutes = settings.FAILED_BUILD_WINDOW_MINUTES
    created = list(
        Submission.objects.filter(
            assignment=assignment,
            student=student,
            gradable=False,
            created_at__gt=timezone.now() - timedelta(minutes=minutes),
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(settings.FAILED_BUILD_LIMIT, 1)]
    )
    return _window_wait(created, limit=settings.FAILED_BUILD_LIMIT, minutes=minutes)


def upload_limit_wait(*, student: Any) -> timedelta | None:
    """Time until ``student`` may upload again after STUDENT_UPLOAD_LIMIT uploads (all
    assignments together) within STUDENT_UPLOAD_WINDOW_MINUTES, or None. Submissions that
    could not be graded do not count (as for the cooldown: not the student's doing)."""
    minutes = settings.STUDENT_UPLOAD_WINDOW_MINUTES
    created = list(
        Submission.objects.filter(
            student=student, created_at__gt=timezone.now() - timedelta(minutes=minutes)
        )
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(settings.STUDENT_UPLOAD_LIMIT, 1)]
    )
    return _window_wait(created, limit=settings.STUDENT_UPLOAD_LIMIT, minutes=minutes)


def is_late(submission: Submission, due: datetime | None) -> bool:
    return due is not None and submission.created_at > due


def submission_list_for_student(*, assignment: Assignment, student: Any) -> QuerySet[Submission]:
    return Submission.objects.filter(assignment=assignment, student=student).order_by("-attempt")


def submission_list_for_teacher(*, assignment: Assignment) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(assignment=assignment)
        .select_related("student")
        .order_by("-created_at", "-id")
    )


def submission_list_not_graded(*, assignment: Assignment) -> QuerySet[Submission]:
    """The assignment's submissions that could not be graded (package, harness or our
    infrastructure), newest first, for the staff dashboard."""
    return submission_list_for_teacher(assignment=assignment).filter(
        status__in=Submission.NOT_GRADED_STATUSES
    )


def queue_position(*, submission: Submission) -> int | None:
    """1 for the next submission a worker takes; None once grading has started."""
    if submission.status != Submission.Status.QUEUED:
        return None
    ahead = Submission.objects.filter(status=Submission.Status.QUEUED).filter(
        Q(created_at__lt=submission.created_at)
        | Q(created_at=submission.created_at, id__lt=submission.id)
    )
    return ahead.count() + 1



def submission_get(*, submission_id: int) -> Submission | None:
    """One submission with its assignment, course and student (one query); None if absent."""
    return (
        Submission.objects.select_related("assignment__course", "student")
        .filter(pk=submission_id)
        .first()
    )


def submission_file_list(*, submission: Submission) -> QuerySet[SubmissionFile]:
    return submission.files.all()


def submission_main_file(*, submission: Submission) -> SubmissionFile | None:
    """The file the assignment asks for (its ``submission_filename``), if it was uploaded."""
    return submission.files.filter(name=submission.assignment.submission_filename).first()

# --- the teacher's assignment dashboard and grade export ----------------------------------


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
