"""LTI 1.3 endpoints: OIDC login initiation, launch, deep-linking pick, tool JWKS, roster sync.

Login and launch are cross-site requests from the LMS and carry no CSRF token: they are
authenticated by the signed id_token, the state cookie and the single-use nonce instead. The
deep-linking pick form is authenticated by its launch id (an unguessable key to the validated
launch kept server-side), because the session cookie may not reach a tool inside an iframe.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.selectors import assignment_list_for_course, is_course_staff
from grader.lms.lti import tool
from grader.lms.lti.passback import resource_id_for
from grader.lms.lti.services import (
    CUSTOM_ASSIGNMENT,
    LtiLaunchError,
    lti_launch_process,
    lti_roster_sync,
    platform_for_launch,
)

logger = logging.getLogger(__name__)
# A deep-linked line item's maximum; the grader posts score/maximum and the LMS scales it.
LINEITEM_SCORE_MAXIMUM = 100


def _refuse(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    logger.warning("lti refused (%s): %s", status, message)
    return render(request, "lms/lti/error.html", {"message": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def lti_login(request: HttpRequest) -> HttpResponse:
    """Third-party initiated login: answer with a redirect to the platform's auth endpoint."""
    try:
        return tool.oidc_login(request).redirect(request.build_absolute_uri(reverse("lti_launch")))
    except (OIDCException, LtiException) as exc:
        return _refuse(request, f"LTI login refused: {exc}")


@csrf_exempt
@require_POST
def lti_launch(request: HttpRequest) -> HttpResponse:
    launch = tool.message_launch(request)
    try:
        launch_data: dict[str, Any] = dict(
            launch.get_launch_data()
        )  # validates; raises on any failure
    except (LtiException, OIDCException) as exc:
        return _refuse(request, f"LTI launch refused: {exc}", status=403)
    try:
        result = lti_launch_process(launch_data=launch_data)
    except LtiLaunchError as exc:
        return _refuse(request, exc.message, status=exc.http_status)
    login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")

    if launch.is_deep_link_launch():
        if result.role != Enrollment.Role.TEACHER:
            return _refuse(request, "Only a teacher can add grader assignments.", status=403)
        return render(
            request,
            "lms/lti/deep_link.html",
            {
                "launch_id": launch.get_launch_id(),
                "course": result.course,
                "assignments": assignment_list_for_course(course=result.course),
            },
        )
    if result.assignment is not None:
        return redirect("assignment_detail", result.assignment.pk)
    return redirect("course_detail", result.course.pk)


@csrf_exempt
@require_POST
def lti_deep_link_respond(request: HttpRequest) -> HttpResponse:
    """The teacher picked an assignment: answer the platform with a signed LtiDeepLinkingResponse
    holding one resource link (with a line item) that launches it."""
    try:
        launch = tool.message_launch_from_cache(request, request.POST.get("launch_id", ""))
    except LtiException:
        return _refuse(request, "This deep-linking session has expired; start again from the LMS.")
    launch_data: dict[str, Any] = dict(launch.get_launch_data())
    if not launch.is_deep_link_launch():
        return _refuse(request, "This launch is not a deep-linking request.")
    platform = platform_for_launch(launch_data)
    course = platform.contexts.get(
        context_id=launch_data["https://purl.imsglobal.org/spec/lti/claim/context"]["id"]
    ).course
    assignment = get_object_or_404(Assignment, pk=request.POST.get("assignment", ""), course=course)
    resource = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title(assignment.title)
        .set_url(request.build_absolute_uri(reverse("lti_launch")))
        .set_custom_params({CUSTOM_ASSIGNMENT: str(assignment.pk)})
        .set_lineitem(
            LineItem()
            # The resource id is what passback looks a line item up by (lti_lineitem_url).
            .set_tag(resource_id_for(assignment.pk))
            .set_resource_id(resource_id_for(assignment.pk))
            .set_label(assignment.title)
            .set_score_maximum(LINEITEM_SCORE_MAXIMUM)
        )
    )
    deep_link = launch.get_deep_link()
    settings_claim = launch_data[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]
    return render(
        request,
        "lms/lti/deep_link_return.html",
        {
            "return_url": settings_claim["deep_link_return_url"],
            "jwt": deep_link.get_response_jwt([resource]),
            "assignment": assignment,
        },
    )


@require_GET
def lti_jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse(tool.DbToolConf().get_jwks())


@login_required
@require_POST
def lti_roster_sync_view(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    if not is_course_staff(user=request.user, course=course):
        raise PermissionDenied
    try:
        count = lti_roster_sync(course=course)
    except Exception as exc:  # the platform's error, shown to staff rather than a 500
        logger.exception("lti roster sync failed for %s", course.code)
        messages.error(request, f"Roster import from the LMS failed: {exc}")
    else:
        messages.success(request, f"Imported {count} members from the LMS.")
    return redirect("course_detail", course.pk)
