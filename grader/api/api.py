"""The REST API (django-ninja): bearer-token auth, OpenAPI schema at /api/openapi.json.

Endpoints are thin: authorize, call one service or selector, shape the answer. An assignment
or submission the caller may not see is a 404 exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import HttpBearer

from grader.courses.models import Enrollment
from grader.courses.selectors import course_roles_for_user, is_course_staff
from grader.feedback.selectors import feedback_for_staff, feedback_for_student
from grader.lib.errors import ServiceError
from grader.lib.web_errors import with_retry_after
from grader.lms.selectors import (
    api_token_user,
    assignment_list_for_user,
    assignment_role,
    submission_results_payload,
    webhook_delivery_get,
)
from grader.lms.webhooks import webhook_redeliver
from grader.submissions.models import Submission
from grader.submissions.selectors import submission_get, submission_list_for_teacher
from grader.submissions.services import submission_create


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Grader API",
    version="1",
    description="Submit work and read results. Authenticate with `Authorization: Bearer <token>` "
    "(`manage.py create_api_token USERNAME`).",
    auth=TokenAuth(),
    urls_namespace="api",
)

# Codes for the errors endpoints raise themselves (HttpError), so every error body has both keys.
HTTP_ERROR_CODES = {400: "invalid_input", 403: "forbidden", 404: "not_found", 413: "too_large"}


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """The one place a service's typed error becomes an API answer: its status, ``{"code",
    "detail"}`` and, for a rate limit or cooldown, ``Retry-After`` (seconds)."""
    response = api.create_response(
        request, {"code": exc.code, "detail": exc.message}, status=exc.http_status
    )
    return with_retry_after(response, exc)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = HTTP_ERROR_CODES.get(exc.status_code, "error")
    return api.create_response(
        request, {"code": code, "detail": str(exc)}, status=exc.status_code
    )


class AssignmentOut(Schema):
    id: int
    course: str
    title: str
    language: str
    submission_filename: str
    max_attempts: int | None
    due_at: datetime | None
    role: str


class SubmissionCreatedOut(Schema):
    id: int
    attempt: int
    status: str
    url: str
    status_url: str


class SubmissionRowOut(Schema):
    id: int
    student: str
    attempt: int
    status: str
    score: float | None
    max_score: float | None
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    status: str
    url: str


def _assignment_or_404(request: HttpRequest, assignment_id: int) -> tuple[Any, str]:
    found = assignment_role(user=request.user, assignment_id=assignment_id)
    if found is None:
        raise HttpError(404, "Assignment not found.")
    return found


def _submission_out(request: HttpRequest, submission: Submission) -> SubmissionCreatedOut:
    return SubmissionCreatedOut(
        id=submission.pk,
        attempt=submission.attempt,
        status=submission.status,
        url=request.build_absolute_uri(reverse("submission_detail", args=[submission.pk])),
        status_url=request.build_absolute_uri(
            reverse("api:submission_results", args=[submission.pk])
        ),
    )


@api.get("/assignments", response=list[AssignmentOut])
def assignments(request: HttpRequest) -> list[AssignmentOut]:
    """Assignments of every course you are in, with your role there."""
    user: Any = request.user  # set by TokenAuth
    roles = course_roles_for_user(user=user)
    return [
        AssignmentOut(
            id=a.pk,
            course=a.course.code,
            title=a.title,
            language=a.language,
            submission_filename=a.submission_filename,
            max_attempts=a.max_attempts,
            due_at=a.due_at,
            role=roles.get(a.course_id, Enrollment.Role.TEACHER),  # superusers: teacher
        )
        for a in assignment_list_for_user(user=user)
    ]


@api.post(
    "/assignments/{assignment_id}/submissions",
    response={202: SubmissionCreatedOut},
    url_name="submit",
)
def submit(
    request: HttpRequest, assignment_id: int, files: File[list[UploadedFile]]
) -> Status[SubmissionCreatedOut]:
    """Upload one or more files (or a zip) as your next attempt; grading runs in the background:
    poll `status_url`."""
    assignment, _role = _assignment_or_404(request, assignment_id)
    total = sum(f.size or 0 for f in files)
    if total > settings.MAX_UPLOAD_BYTES:
        raise HttpError(
            413, f"The upload is {total:,} bytes; the limit is {settings.MAX_UPLOAD_BYTES:,} bytes."
        )
    uploads = [(f.name or "upload", f.read()) for f in files]
    # A refusal is a ServiceError, answered by ``service_error`` above.
    submission = submission_create(assignment=assignment, student=request.user, uploads=uploads)
    return Status(202, _submission_out(request, submission))


@api.get("/submissions/{submission_id}", url_name="submission_results")
def submission_results(request: HttpRequest, submission_id: int) -> dict[str, Any]:
    """Status and results in Gradescope's results.json shape, with the same visibility as the
    submission page: students see visible tests, and of hidden ones only a count and points."""
    submission = submission_get(submission_id=submission_id)
    if submission is None:
        raise HttpError(404, "Submission not found.")
    staff = is_course_staff(user=request.user, course=submission.assignment.course)
    if not staff and submission.student_id != request.user.pk:
        raise HttpError(404, "Submission not found.")
    return submission_results_payload(submission=submission, staff=staff)


@api.get("/assignments/{assignment_id}/submissions", response=list[SubmissionRowOut])
def assignment_submissions(request: HttpRequest, assignment_id: int) -> list[SubmissionRowOut]:
    """Every submission to the assignment (teachers and TAs only)."""
    assignment, role = _assignment_or_404(request, assignment_id)
    if role not in (Enrollment.Role.TEACHER, Enrollment.Role.TA):
        raise HttpError(403, "Only the course's teachers and TAs can list all submissions.")
    return [
        SubmissionRowOut(
            id=s.pk,
            student=s.student.username,
            attempt=s.attempt,
            status=s.status,
            score=s.score,
            max_score=s.max_score,
            created_at=s.created_at,
        )
        for s in submission_list_for_teacher(assignment=assignment)
    ]


@api.post("/webhook-deliveries/{delivery_id}/redeliver", response={202: DeliveryOut})
def redeliver(request: HttpRequest, delivery_id: int) -> Status[DeliveryOut]:
    """Send an outbound webhook again as a new delivery (teachers and TAs of its course)."""
    delivery = webhook_delivery_get(delivery_id=delivery_id)
    if delivery is None or not is_course_staff(user=request.user, course=delivery.course):
        raise HttpError(404, "Delivery not found.")
    new = webhook_redeliver(delivery=delivery)
    return Status(202, DeliveryOut(id=new.pk, status=new.status, url=new.url))


@api.get("/submissions/{submission_id}/feedback", url_name="submission_feedback")
def submission_feedback(request: HttpRequest, submission_id: int) -> dict[str, Any]:
    """The explanation of a failing submission. Students get it only once a teacher released it
    (404 before, exactly as for a submission that has none); staff see it in any state."""
    submission = submission_get(submission_id=submission_id)
    if submission is None:
        raise HttpError(404, "Submission not found.")
    staff = is_course_staff(user=request.user, course=submission.assignment.course)
    if not staff and submission.student_id != request.user.pk:
        raise HttpError(404, "Submission not found.")
    feedback = feedback_for_staff(submission) if staff else feedback_for_student(submission)
    if feedback is None:
        raise HttpError(404, "No feedback for this submission.")
    body: dict[str, Any] = {
        "submission": submission.pk,
        "line": feedback.line,
        "category": feedback.category,
        "explanation": feedback.explanation,
        "hint": feedback.hint,
        "agreement": round(feedback.agreement, 3),
        "samples": feedback.samples_count,
    }
    if staff:
        body["status"] = feedback.status
    return body
