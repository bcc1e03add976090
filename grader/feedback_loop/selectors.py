"""Reads for flags, regrade requests and saved comments. Query counts do not grow with rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from grader.courses.models import Assignment, Course
from grader.courses.release import release_state
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.feedback_loop.models import Flag, RegradeRequest, Release, RequestMessage, SavedComment
from grader.grading.models import TestResult
from grader.submissions.models import Submission

# --- the student's side -------------------------------------------------------------------


@dataclass
class FeedbackWait:
    """A submission's feedback still being written: its place in the feedback queue (apart
    from grading's) and whether it goes to the student at once or to a teacher first."""

    ahead: int  # pending feedback rows queued before this one
    generating: bool  # a worker has claimed it
    may_auto_release: bool


def feedback_wait(*, submission: Submission) -> FeedbackWait | None:
    feedback = Feedback.objects.filter(
        submission=submission, status=Feedback.Status.PENDING
    ).first()
    if feedback is None:
        return None
    ahead = Feedback.objects.filter(status=Feedback.Status.PENDING).filter(
        Q(created_at__lt=feedback.created_at)
        | Q(created_at=feedback.created_at, id__lt=feedback.id)
    ).count()
    config = AssignmentFeedbackConfig.objects.filter(assignment_id=submission.assignment_id).first()
    # Mirrors feedback.services._generate: an automatic-release assignment, or the site-wide
    # threshold, may release a validated explanation without a teacher.
    auto = (config is not None and config.release == AssignmentFeedbackConfig.Release.AUTO) or (
        settings.FEEDBACK_AUTO_RELEASE_AGREEMENT is not None
    )
    return FeedbackWait(ahead=ahead, generating=feedback.claimed_at is not None,
                        may_auto_release=auto)


def flags_for_feedback(*, feedback: Feedback | None) -> list[Flag]:
    if feedback is None:
        return []
    return list(Flag.objects.filter(feedback=feedback).select_related("resolved_by"))


def flags_for_submission(*, submission: Submission) -> list[Flag]:
    """Every flag on the submission's feedback, also once the explanation was withdrawn."""
    return list(
        Flag.objects.filter(feedback__submission=submission).select_related("resolved_by")
    )


def requests_for_submission(*, submission: Submission) -> list[RegradeRequest]:
    return list(
        RegradeRequest.objects.filter(submission=submission)
        .select_related("resolved_by")
        .prefetch_related("messages")
    )


# --- the staff queue ----------------------------------------------------------------------


@dataclass
class Context:
    """What staff need to judge a flag or a request: the code and the test(s) it is about."""

    code: list[tuple[int, str, bool]]  # (line number, text, highlighted)
    tests: list[TestResult]


def _context(submission: Submission, line: int | None, tests: Iterable[TestResult]) -> Context:
    main = next(
        (f for f in submission.files.all() if f.name == submission.assignment.submission_filename),
        None,
    )
    lines = main.text.splitlines() if main else []
    return Context([(i, t, i == line) for i, t in enumerate(lines, start=1)], list(tests))


def request_tests(request: RegradeRequest, results: Iterable[TestResult]) -> list[TestResult]:
    """The current result rows a request is about (a regrade may have replaced them)."""
    if request.about_hidden:
        return [r for r in results if r.visibility != TestResult.Visibility.VISIBLE]
    return [r for r in results if r.position == request.test_position
            and r.name == request.test_name]


def flag_tests(feedback: Feedback, results: Iterable[TestResult]) -> list[TestResult]:
    """The test the explanation is grounded in, else (hidden grounding) the failing ones."""
    results = list(results)
    if feedback.grounding_test:
        named = [r for r in results if r.name == feedback.grounding_test]
        if named:
            return named
    return [r for r in results if r.verdict != TestResult.Verdict.PASSED]


@dataclass
class StaffQueue:
    flags: list[tuple[Flag, Context]]
    requests: list[tuple[RegradeRequest, Context]]
    resolved_flags: list[Flag] = field(default_factory=list)
    resolved_requests: list[RegradeRequest] = field(default_factory=list)


def _submission_prefetch(prefix: str) -> list[Any]:
    return [f"{prefix}files", f"{prefix}results"]


def staff_queue(*, course: Course, limit: int = 100) -> StaffQueue:
    """Open flags and requests of the course, oldest first, each with its code and tests;
    the latest resolutions below them (a fixed number of queries)."""
    flags = (
        Flag.objects.filter(feedback__submission__assignment__course=course)
        .select_related("feedback__submission__assignment", "feedback__submission__student",
                        "created_by", "resolved_by")
    )
    requests = (
        RegradeRequest.objects.filter(submission__assignment__course=course)
        .select_related("submission__assignment", "submission__student", "resolved_by")
    )
    open_flags = flags.filter(outcome="").order_by("created_at", "id").prefetch_related(
        *_submission_prefetch("feedback__submission__"))[:limit]
    open_requests = requests.filter(outcome="").order_by("created_at", "id").prefetch_related(
        *_submission_prefetch("submission__"),
        Prefetch("messages", queryset=RequestMessage.objects.select_related("author")),
    )[:limit]
    return StaffQueue(
        flags=[(f, _context(f.feedback.submission, f.feedback.line,
                            flag_tests(f.feedback, f.feedback.submission.results.all())))
               for f in open_flags],
        requests=[(r, _context(r.submission, None,
                               request_tests(r, r.submission.results.all())))
                  for r in open_requests],
        resolved_flags=list(flags.exclude(outcome="").order_by("-resolved_at", "-id")[:50]),
        resolved_requests=list(requests.exclude(outcome="").order_by("-resolved_at", "-id")[:50]),
    )


def open_counts(*, course: Course) -> tuple[int, int]:
    flags = Flag.objects.filter(feedback__submission__assignment__course=course, outcome="")
    requests = RegradeRequest.objects.filter(submission__assignment__course=course, outcome="")
    return flags.count(), requests.count()



def request_thread(*, regrade: RegradeRequest) -> QuerySet[RequestMessage]:
    """A regrade request's messages with their authors (one query)."""
    return regrade.messages.select_related("author")

# --- saved comments -----------------------------------------------------------------------


def comments_for_course(*, course: Course) -> QuerySet[SavedComment]:
    return SavedComment.objects.filter(course=course).select_related("assignment", "created_by")


def comment_suggestions(
    *, course: Course, feedbacks: Iterable[Feedback], per_item: int = 3
) -> dict[int, list[SavedComment]]:
    """Saved comments for each pending feedback, best first: written for the same assignment
    and a test that fails here (the grounding test or any failing one), then for the same bug
    category on the same assignment, then for that category anywhere in the course (the
    catch-all category "other" matches nothing by itself).

    One query for the comments; the feedback's submissions must have ``results`` prefetched."""
    comments = list(SavedComment.objects.filter(course=course).order_by("-uses", "-updated_at"))
    found: dict[int, list[SavedComment]] = {}
    for fb in feedbacks:
        assignment_id = fb.submission.assignment_id
        tests = {r.name for r in fb.submission.results.all() if not r.passed}
        if fb.grounding_test:
            tests.add(fb.grounding_test)
        ranked = []
        for c in comments:
            same_assignment = c.assignment_id == assignment_id
            if same_assignment and c.test_name and c.test_name in tests:
                rank = 0
            elif c.category and c.category != "other" and c.category == fb.category:
                rank = 1 if same_assignment else 2
            else:
                continue
            ranked.append((rank, c))
        ranked.sort(key=lambda pair: pair[0])  # stable: most used first within a rank
        found[fb.id] = [c for _, c in ranked[:per_item]]
    return found


# --- what the submission page adds --------------------------------------------------------


def status_panel(*, submission: Submission, staff: bool) -> dict[str, Any]:
    """For the polled status partial: the feedback's place in its queue and the flags."""
    graded = submission.status == Submission.Status.GRADED
    # Feedback is written only for failures: while the release policy withholds hidden results,
    # a student must not learn from the feedback queue that a hidden test failed.
    withheld = not staff and release_state(
        assignment=submission.assignment, student=submission.student
    ).withheld
    return {
        "feedback_wait": feedback_wait(submission=submission) if graded and not withheld else None,
        "flags": flags_for_submission(submission=submission),
        "flag_kinds": Flag.Kind.choices,
    }


def requests_panel(*, submission: Submission, staff: bool, shown: list[TestResult],
                   hidden_count: int) -> dict[str, Any]:
    """For the submission page: the regrade threads, and the form for the student. ``shown``
    and ``hidden_count`` come from the student's ResultsView: only tests they can see by name
    are offered, the hidden ones as a whole."""
    can = not staff and submission.status == Submission.Status.GRADED and submission.gradable
    return {
        "regrade_requests": requests_for_submission(submission=submission),
        "can_request": can,
        "requestable": sorted(shown, key=lambda r: r.passed) if can else [],  # failing first
        "request_hidden": can and hidden_count > 0,
    }


# --- the teacher's dashboard: outcomes of released feedback ------------------------------
#
# How released feedback did, per assignment: what students flagged (real-world precision)
# and whether the next attempt passed the test the explanation was about.
#
# A fixed number of queries per assignment whatever its size (a test holds it).


@dataclass
class KindCount:
    kind: str
    label: str
    flags: int = 0
    upheld: int = 0  # upheld or withdrawn by staff
    open: int = 0


@dataclass
class Rate:
    total: int = 0
    passed: int = 0

    @property
    def share(self) -> float | None:
        return self.passed / self.total if self.total else None


@dataclass
class FeedbackOutcomes:
    released: int = 0  # explanations students saw (also those withdrawn after a flag)
    flagged_wrong: int = 0  # of them, with at least one "wrong" flag
    kinds: list[KindCount] = field(default_factory=list)
    # Next graded attempt after a released explanation (made after its release)...
    explained_test: Rate = field(default_factory=Rate)  # ...passes the test it was grounded in
    explained_all: Rate = field(default_factory=Rate)  # ...passes every test that had failed
    # ...and, for comparison, after a failing submission whose explanation the student never saw.
    unexplained_all: Rate = field(default_factory=Rate)
    released_too_late: int = 0  # the next attempt came before the explanation was released

    @property
    def not_flagged_wrong(self) -> float | None:
        return 1 - self.flagged_wrong / self.released if self.released else None


def feedback_outcomes(*, assignment: Assignment) -> FeedbackOutcomes:
    out = FeedbackOutcomes(kinds=[KindCount(k, str(label)) for k, label in Flag.Kind.choices])
    flagged = Flag.objects.filter(feedback__submission__assignment=assignment)
    feedbacks = list(
        Feedback.objects.filter(submission__assignment=assignment)
        .filter(Q(status__in=Feedback.VISIBLE_TO_STUDENT) | Q(id__in=flagged.values("feedback_id")))
        .values_list("id", "submission_id", "status", "grounding_test")
    )
    out.released = len(feedbacks)
    kinds = {k.kind: k for k in out.kinds}
    wrong: set[int] = set()
    for feedback_id, kind, outcome in flagged.values_list("feedback_id", "kind", "outcome"):
        count = kinds[kind]
        count.flags += 1
        count.upheld += outcome in (Flag.Outcome.UPHELD, Flag.Outcome.WITHDRAWN)
        count.open += not outcome
        if kind == Flag.Kind.WRONG:
            wrong.add(feedback_id)
    out.flagged_wrong = len(wrong)
    _next_attempts(assignment, feedbacks, out)
    return out


def _next_attempts(assignment: Assignment, feedbacks: list[tuple[int, int, str, str]],
                   out: FeedbackOutcomes) -> None:
    graded = list(
        Submission.objects.filter(assignment=assignment, status=Submission.Status.GRADED)
        .order_by("student_id", "attempt")
        .values_list("id", "student_id", "created_at", "finished_at")
    )
    following: dict[int, tuple[int, datetime]] = {}  # submission → its student's next graded
    for (sid, student, _, _), (nid, next_student, created, _) in zip(graded, graded[1:],
                                                                     strict=False):
        if student == next_student:
            following[sid] = (nid, created)
    results: dict[int, dict[str, bool]] = defaultdict(dict)
    for sid, name, verdict in TestResult.objects.filter(
        submission__assignment=assignment, submission__status=Submission.Status.GRADED
    ).values_list("submission_id", "name", "verdict"):
        results[sid][name] = verdict == TestResult.Verdict.PASSED
    released_at = dict(
        Release.objects.filter(feedback__submission__assignment=assignment).values_list(
            "feedback__submission_id", "released_at")
    )
    # Before release times were recorded, an explanation counts as released when graded.
    finished = {sid: done or created for sid, _, created, done in graded}
    seen: set[int] = set()
    for _, sid, status, grounding in feedbacks:
        seen.add(sid)
        if status not in Feedback.VISIBLE_TO_STUDENT:
            continue  # withdrawn after a flag: no longer counted either way
        nxt = following.get(sid)
        if nxt is None:
            continue
        nid, created = nxt
        release = released_at.get(sid) or finished.get(sid)
        if release is not None and created < release:
            out.released_too_late += 1
            continue
        failing = [n for n, ok in results[sid].items() if not ok]
        after = results[nid]
        # A hidden grounding test has no name here: the failing tests stand for it.
        about = [grounding] if grounding else failing
        out.explained_test.total += 1
        out.explained_test.passed += bool(about) and all(after.get(n, False) for n in about)
        out.explained_all.total += 1
        out.explained_all.passed += bool(failing) and all(after.get(n, False) for n in failing)
    for sid, checks in results.items():
        failing = [n for n, ok in checks.items() if not ok]
        if sid in seen or not failing or sid not in following:
            continue
        after = results[following[sid][0]]
        out.unexplained_all.total += 1
        out.unexplained_all.passed += all(after.get(n, False) for n in failing)
