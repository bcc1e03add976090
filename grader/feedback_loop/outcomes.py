"""How released feedback did, per assignment: what students flagged (real-world precision)
and whether the next attempt passed the test the explanation was about.

A fixed number of queries per assignment whatever its size (a test holds it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from grader.courses.models import Assignment
from grader.feedback.models import Feedback
from grader.feedback_loop.models import Flag, Release
from grader.grading.models import TestResult
from grader.submissions.models import Submission


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
