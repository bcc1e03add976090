"""Reads for the API and the webhooks: the results a viewer may see, in one JSON shape."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.release import release_state
from grader.grading.selectors import results_for_viewer
from grader.lms.lti.models import LtiGradeTarget, LtiScorePost
from grader.lms.models import ApiToken, CourseIntegration, WebhookDelivery
from grader.submissions.models import Submission


def api_token_user(*, key: str) -> Any | None:
    """The active user a bearer token belongs to, or None; notes when it was last used."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    token = ApiToken.objects.select_related("user").filter(key_sha256=digest).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


STAFF_ROLES = (Enrollment.Role.TEACHER, Enrollment.Role.TA)


def assignment_list_for_user(*, user: Any) -> QuerySet[Assignment]:
    """Assignments of the user's courses: all of them where the user is staff, the published
    ones where a student (the same rule as the course pages)."""
    qs = Assignment.objects.select_related("course").order_by("course__code", "due_at", "id")
    if user.is_superuser:
        return qs
    # Subqueries, not two joins on course__enrollments: a second join would match another
    # member's teacher enrollment and show a student the drafts.
    courses = Enrollment.objects.filter(user=user).values("course")
    staff_courses = Enrollment.objects.filter(user=user, role__in=STAFF_ROLES).values("course")
    return qs.filter(course__in=courses).filter(
        Q(is_published=True) | Q(course__in=staff_courses)
    )


def assignment_role(*, user: Any, assignment_id: int) -> tuple[Assignment, str] | None:
    """The assignment and the user's role in its course; None when it does not exist, the
    user is not in its course, or it is unpublished and the user a student there (the caller
    answers all three with the same 404)."""
    assignment = Assignment.objects.select_related("course").filter(pk=assignment_id).first()
    if assignment is None:
        return None
    if user.is_superuser:
        return assignment, Enrollment.Role.TEACHER
    role = (
        Enrollment.objects.filter(user=user, course=assignment.course_id)
        .values_list("role", flat=True)
        .first()
    )
    if not role or (role == Enrollment.Role.STUDENT and not assignment.is_published):
        return None
    return assignment, role


def submission_results_payload(*, submission: Submission, staff: bool) -> dict[str, Any]:
    """Gradescope's results.json shape plus our ids and status, filtered by the same rules as
    the submission page: a student never gets a hidden test's name or output, only a count."""
    view = results_for_viewer(submission=submission, staff=staff)
    tests = [
        {
            "name": r.name,
            "score": r.score,
            "max_score": r.max_score,
            "status": "passed" if r.passed else "failed",
            "verdict": r.verdict,
            "visibility": r.visibility,
            "sanity": r.sanity,
            "output": r.output,
        }
        for r in view.shown
    ]
    graded = submission.status == Submission.Status.GRADED
    payload: dict[str, Any] = {
        "submission_id": submission.pk,
        "assignment_id": submission.assignment_id,
        "course": submission.assignment.course.code,
        "student": {"username": submission.student.username, "email": submission.student.email},
        "attempt": submission.attempt,
        "status": submission.status,
        # None while the release policy withholds it (see "release"), as for the student.
        "score": view.score,
        "max_score": view.max_score,
        "gradable": submission.gradable,
        "execution_time": submission.execution_seconds,
        "output": submission.compile_output if graded and not submission.gradable else "",
        "tests": tests,
        "hidden_tests": {
            "count": view.hidden_count,
            "score": view.hidden_score,
            "max_score": view.hidden_max,
        },
        # Whether the student's release policy still withholds the hidden points, the total and
        # the explanation, and until when (for staff too: the student's state).
        "release": (
            view.release
            or release_state(assignment=submission.assignment, student=submission.student)
        ).as_json(),
        "created_at": submission.created_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
    }
    if staff:
        payload["error"] = submission.error
    return payload


def webhook_delivery_list_for_course(*, course_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(course_id=course_id).prefetch_related("log")


@dataclass
class TargetRow:
    """One LTI grade target (a student's line item on one platform) and its passback log."""

    target: LtiGradeTarget
    last: LtiScorePost | None  # the newest post, whatever its state
    last_sent: LtiScorePost | None  # the newest the LMS accepted
    tries: int  # posts made for this target


@dataclass
class StudentDeliveries:
    student: Any
    latest: Submission | None  # the latest graded submission: the grade the LMS should show
    targets: list[TargetRow] = field(default_factory=list)
    webhook: WebhookDelivery | None = None  # the newest grade event
    webhook_delivered: WebhookDelivery | None = None  # the newest the receiver accepted

    @property
    def webhook_status_code(self) -> int | None:
        attempts = list(self.webhook.log.all()) if self.webhook else []
        return attempts[-1].status_code if attempts else None


def deliveries_per_student(*, assignment: Assignment) -> list[StudentDeliveries]:
    """For the delivery view: per student of the course, what the LMS was sent for this
    assignment by LTI and by webhook, and what it answered. A fixed number of queries."""
    from grader.lms.webhooks import GRADE_EVENTS

    students = list(
        get_user_model().objects.filter(
            enrollments__course=assignment.course_id, enrollments__role=Enrollment.Role.STUDENT
        ).order_by("username")
    )
    latest: dict[int, Submission] = {}
    for s in Submission.objects.filter(
        assignment=assignment, status=Submission.Status.GRADED
    ).order_by("attempt"):
        latest[s.student_id] = s
    targets = LtiGradeTarget.objects.filter(assignment=assignment).select_related(
        "lti_user__platform"
    )
    posts: dict[int, list[LtiScorePost]] = {}
    for post in LtiScorePost.objects.filter(target__assignment=assignment).select_related(
        "submission"
    ).order_by("-id"):
        posts.setdefault(post.target_id, []).append(post)
    by_student: dict[int, list[TargetRow]] = {}
    for target in targets:
        mine = posts.get(target.pk, [])
        sent = next((p for p in mine if p.status == LtiScorePost.Status.SENT), None)
        by_student.setdefault(target.lti_user.user_id, []).append(
            TargetRow(target, mine[0] if mine else None, sent, len(mine))
        )
    hooks: dict[int, list[WebhookDelivery]] = {}
    for delivery in (
        WebhookDelivery.objects.filter(
            submission__assignment=assignment, event__in=GRADE_EVENTS
        )
        .select_related("submission")
        .prefetch_related("log")
        .order_by("-id")
    ):
        assert delivery.submission is not None
        hooks.setdefault(delivery.submission.student_id, []).append(delivery)
    rows = []
    for student in students:
        mine_hooks = hooks.get(student.pk, [])
        rows.append(
            StudentDeliveries(
                student=student,
                latest=latest.get(student.pk),
                targets=by_student.get(student.pk, []),
                webhook=mine_hooks[0] if mine_hooks else None,
                webhook_delivered=next(
                    (d for d in mine_hooks if d.status == WebhookDelivery.Status.DELIVERED), None
                ),
            )
        )
    return rows


def course_has_lms_roster(*, course: Course) -> bool:
    """Whether an LTI launch told us where the course's roster is (names and roles service)."""
    return course.lti_contexts.exclude(memberships_url="").exists()


def course_integration_enabled(*, course_code: str) -> CourseIntegration | None:
    """The course's webhook integration, if it is switched on."""
    return (
        CourseIntegration.objects.select_related("course")
        .filter(course__code=course_code, enabled=True)
        .first()
    )


def course_assignment(*, course: Course, assignment_id: int) -> Assignment | None:
    return course.assignments.filter(pk=assignment_id).first()


def course_students_matching(
    *, course: Course, username: str = "", email: str = "", limit: int = 2
) -> list[Any]:
    """Students of ``course`` with this username (else this email, case-insensitive); at most
    ``limit`` of them, so a caller can tell one match from an ambiguous one."""
    users = get_user_model().objects.filter(
        enrollments__course=course, enrollments__role=Enrollment.Role.STUDENT
    )
    users = users.filter(username=username) if username else users.filter(email__iexact=email)
    return list(users[:limit])


def webhook_delivery_get(*, delivery_id: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.select_related("course").filter(pk=delivery_id).first()
