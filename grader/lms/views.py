"""The inbound LMS webhook and the teacher's delivery log.

The webhook's order of checks matters: size first (before reading the body), then the course,
then the idempotency key's shape (it is signed), then the signature over key and body (before
parsing anything an attacker sent).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.selectors import course_role, is_course_staff
from grader.lib.errors import Forbidden, ServiceError
from grader.lib.web_errors import with_retry_after
from grader.lms.lti.models import LtiGradeTarget
from grader.lms.lti.passback import lti_score_resend
from grader.lms.models import WebhookDelivery
from grader.lms.release import results_release_assignment
from grader.lms.selectors import (
    course_assignment,
    course_integration_enabled,
    course_students_matching,
    deliveries_per_student,
    webhook_delivery_list_for_course,
)
from grader.lms.services import inbound_submission_receive
from grader.lms.signing import HEADER, SignatureError, verify
from grader.lms.webhooks import webhook_redeliver


class WebhookError(Exception):
    """A request the webhook refuses before any service runs (size, signature, body shape)."""

    CODES = {401: "bad_signature", 404: "not_found", 413: "too_large",
             415: "unsupported_media_type", 422: "unknown_student"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = self.CODES.get(status, "bad_request")


# How a service's refusal reads to an LMS, where it differs from the error's own status: the
# LMS chose the student, so an assignment not open to them is a request we cannot process
# (422, like a student we cannot match), not a refusal of the caller (403).
WEBHOOK_STATUS: dict[type[ServiceError], int] = {Forbidden: 422}


def _service_error_status(exc: ServiceError) -> int:
    for kind, status in WEBHOOK_STATUS.items():
        if isinstance(exc, kind):
            return status
    return exc.http_status


@csrf_exempt
@require_POST
def inbound_submission(request: HttpRequest, course_code: str) -> HttpResponse:
    """The one place webhook refusals become answers: ``{"code", "error"}`` with the status,
    and ``Retry-After`` (seconds) for a cooldown or rate limit."""
    try:
        return _inbound_submission(request, course_code)
    except WebhookError as exc:
        return JsonResponse({"code": exc.code, "error": str(exc)}, status=exc.status)
    except ServiceError as exc:
        response = JsonResponse(
            {"code": exc.code, "error": exc.message}, status=_service_error_status(exc)
        )
        return with_retry_after(response, exc)


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.LMS_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise WebhookError(400, "Content-Length is not a number.") from None
    if declared > limit:
        raise WebhookError(413, f"The body is {declared:,} bytes; the limit is {limit:,} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise WebhookError(413, f"The body is over the limit of {limit:,} bytes.") from None
    if len(body) > limit:
        raise WebhookError(413, f"The body is {len(body):,} bytes; the limit is {limit:,} bytes.")
    return body


def _inbound_submission(request: HttpRequest, course_code: str) -> HttpResponse:
    body = _read_body(request)
    integration = course_integration_enabled(course_code=course_code)
    if integration is None:
        raise WebhookError(404, f"No course {course_code!r} accepts webhooks here.")
    # The key is part of the signed text (signing.py, v2): read it first. A replay of a captured
    # request under a new key would otherwise make a new submission inside the window.
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise WebhookError(
            400, "An Idempotency-Key header (1 to 200 printable characters) is required."
        )
    try:
        verify(
            request.headers.get(HEADER, ""),
            secret=integration.secret,
            body=body,
            idempotency_key=key,
            tolerance=settings.LMS_WEBHOOK_TOLERANCE_SECONDS,
        )
    except SignatureError as exc:
        raise WebhookError(401, str(exc)) from exc
    course = integration.course
    fields, uploads = _parse(request, body)
    assignment = _assignment(course, fields.get("assignment"))
    student = _student(course, fields)
    # Refusals (a reused key, no attempts left, a bad upload, a cooldown) are ServiceErrors,
    # answered by inbound_submission.
    result = inbound_submission_receive(
        course=course,
        idempotency_key=key,
        body=body,
        assignment=assignment,
        student=student,
        uploads=uploads,
    )
    submission = result.submission
    return JsonResponse(
        {
            "submission_id": submission.pk,
            "attempt": submission.attempt,
            "status": submission.status,
            "duplicate": result.duplicate,
            "url": request.build_absolute_uri(reverse("submission_detail", args=[submission.pk])),
            "status_url": request.build_absolute_uri(
                reverse("api:submission_results", args=[submission.pk])
            ),
        },
        status=202,
    )


def _parse(request: HttpRequest, body: bytes) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """JSON ``{"assignment", "student": {"email"|"username"}, "files": [{"name",
    "content_base64"}]}`` or multipart with fields assignment, student_email / student_username
    and one or more ``files``."""
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        fields: dict[str, Any] = {
            "assignment": request.POST.get("assignment"),
            "student": {
                "email": request.POST.get("student_email"),
                "username": request.POST.get("student_username"),
            },
        }
        uploads = [(f.name or "upload", f.read()) for f in request.FILES.getlist("files")]
        if not uploads:
            raise WebhookError(400, "No files: send them as multipart field 'files'.")
        return fields, uploads
    if content_type != "application/json":
        raise WebhookError(415, "Send application/json or multipart/form-data.")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(400, f"The body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "The body must be a JSON object.")
    files = data.get("files")
    if not isinstance(files, list) or not files:
        raise WebhookError(400, "'files' must be a non-empty list of {name, content_base64}.")
    uploads = []
    for i, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise WebhookError(400, f"files[{i}] needs a string 'name'.")
        try:
            content = base64.b64decode(item.get("content_base64", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise WebhookError(400, f"files[{i}].content_base64 is not valid base64.") from None
        uploads.append((item["name"], content))
    return data, uploads


def _assignment(course: Course, raw: Any) -> Any:
    try:
        assignment_id = int(raw)
    except (TypeError, ValueError):
        raise WebhookError(400, "'assignment' must be the assignment's id.") from None
    assignment = course_assignment(course=course, assignment_id=assignment_id)
    if assignment is None:
        raise WebhookError(404, f"Course {course.code} has no assignment {assignment_id}.")
    return assignment


def _student(course: Course, fields: dict[str, Any]) -> Any:
    who = fields.get("student")
    if not isinstance(who, dict):
        raise WebhookError(400, "'student' must be an object with 'email' or 'username'.")
    email, username = who.get("email"), who.get("username")
    if isinstance(username, str) and username:
        found = course_students_matching(course=course, username=username)
    elif isinstance(email, str) and email:
        found = course_students_matching(course=course, email=email)
    else:
        raise WebhookError(400, "'student' must have an 'email' or a 'username'.")
    if len(found) != 1:
        # Ambiguous emails are refused too: a submission must never land on the wrong student.
        raise WebhookError(422, f"No single student of {course.code} matches {who!r}.")
    return found[0]


@login_required
def delivery_list(request: HttpRequest, course_code: str) -> HttpResponse:
    course = get_object_or_404(Course, code=course_code)
    if not is_course_staff(user=request.user, course=course):
        raise Http404
    deliveries = webhook_delivery_list_for_course(course_id=course.pk)[:200]
    return render(request, "lms/delivery_list.html", {"course": course, "deliveries": deliveries})


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("course"), pk=pk)
    if not is_course_staff(user=request.user, course=delivery.course):
        raise Http404
    new = webhook_redeliver(delivery=delivery)
    messages.success(request, f"Delivery #{delivery.pk} queued again as #{new.pk}.")
    return _back(request) or redirect("lms_delivery_list", course_code=delivery.course.code)


def _back(request: HttpRequest) -> HttpResponse | None:
    """Back to the page the button was on (the per-student view), if it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return None


def _staff_assignment(request: HttpRequest, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    if not is_course_staff(user=request.user, course=assignment.course):
        raise Http404
    return assignment


@login_required
def assignment_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """Per student: the score the LMS was last sent by LTI and by webhook, what it answered,
    the tries and the next one, and a resend."""
    assignment = _staff_assignment(request, pk)
    return render(
        request,
        "lms/assignment_deliveries.html",
        {"assignment": assignment, "rows": deliveries_per_student(assignment=assignment)},
    )


@login_required
@require_POST
def lti_target_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Post the student's current score to this line item again, changed or not."""
    target = get_object_or_404(
        LtiGradeTarget.objects.select_related("assignment__course", "lti_user"), pk=pk
    )
    if not is_course_staff(user=request.user, course=target.assignment.course):
        raise Http404
    posts = lti_score_resend(target=target)
    if posts:
        messages.success(request, f"Score queued for the LMS again (post #{posts[0].pk}).")
    else:
        messages.error(request, "Nothing to send: the student has no graded submission.")
    return redirect("lms_assignment_deliveries", pk=target.assignment_id)


@login_required
@require_POST
def assignment_release(request: HttpRequest, pk: int) -> HttpResponse:
    """A teacher releases the withheld results of every student now."""
    assignment = _staff_assignment(request, pk)
    if course_role(user=request.user, course=assignment.course) != Enrollment.Role.TEACHER:
        raise Http404
    released = results_release_assignment(assignment=assignment)
    messages.success(
        request,
        f"Results released: every student sees them now; {len(released)} graded "
        f"submission{pluralize(len(released))} sent to the LMS.",
    )
    return redirect("assignment_submissions", pk=assignment.pk)
