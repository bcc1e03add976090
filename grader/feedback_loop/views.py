"""Thin views: who may act is decided here (404 for everyone else), what is done in services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from grader.courses.models import Course
from grader.courses.selectors import is_course_staff
from grader.feedback.models import Feedback
from grader.feedback.selectors import feedback_for_student
from grader.feedback_loop import services
from grader.feedback_loop.models import Flag, RegradeRequest, SavedComment
from grader.feedback_loop.selectors import (
    comments_for_course,
    request_tests,
    request_thread,
    staff_queue,
)
from grader.grading.selectors import results_for_viewer
from grader.lib.errors import ServiceError
from grader.lib.web_errors import flash
from grader.submissions.models import Submission
from grader.submissions.selectors import submission_main_file


def _own_submission(request: HttpRequest, pk: int) -> Submission:
    """Students act only on their own submissions: anyone else (staff too) gets 404."""
    submission = get_object_or_404(
        Submission.objects.select_related("assignment__course"), pk=pk
    )
    if submission.student_id != request.user.pk:
        raise Http404
    return submission


def _staff_course(request: HttpRequest, pk: int) -> Course:
    course = get_object_or_404(Course, pk=pk)
    if not is_course_staff(user=request.user, course=course):
        raise Http404
    return course


@login_required
@require_POST
def flag_create(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _own_submission(request, pk)
    # Only an explanation the student can read (released, and past the release policy).
    feedback = feedback_for_student(submission)
    if feedback is None:
        raise Http404
    try:
        services.flag_create(feedback=feedback, student=request.user,
                             kind=request.POST.get("kind", ""),
                             comment=request.POST.get("comment", ""))
    except ServiceError as exc:
        flash(request, exc)
    else:
        messages.success(request, "Thank you: your teacher will look at this explanation.")
    return redirect("submission_detail", pk=submission.pk)


@login_required
@require_POST
def regrade_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _own_submission(request, pk)
    try:
        created = services.regrade_request_create(
            submission=submission, student=request.user,
            position=request.POST.get("test", ""), message=request.POST.get("message", ""),
        )
    except ServiceError as exc:
        flash(request, exc)
        return redirect("submission_detail", pk=submission.pk)
    messages.success(request, "Your request was sent to the course staff.")
    return redirect("regrade_request", pk=created.pk)


def _visible_request(request: HttpRequest, pk: int) -> tuple[RegradeRequest, bool]:
    """The request if the user is its student or staff of its course; 404 for everyone else."""
    regrade = get_object_or_404(
        RegradeRequest.objects.select_related(
            "submission__assignment__course", "submission__student", "resolved_by"
        ),
        pk=pk,
    )
    staff = is_course_staff(user=request.user, course=regrade.submission.assignment.course)
    if not staff and regrade.submission.student_id != request.user.pk:
        raise Http404
    return regrade, staff


@login_required
def regrade_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread; a POST adds a message (student or staff) while it is open."""
    regrade, staff = _visible_request(request, pk)
    if request.method == "POST":
        try:
            services.regrade_request_reply(request=regrade, author=request.user, staff=staff,
                                           body=request.POST.get("body", ""))
        except ServiceError as exc:
            flash(request, exc)
        return redirect("regrade_request", pk=regrade.pk)
    submission = regrade.submission
    view = results_for_viewer(submission=submission, staff=staff)
    main = submission_main_file(submission=submission)
    return render(request, "feedback_loop/request_detail.html", {
        "regrade": regrade,
        "submission": submission,
        "staff": staff,
        "thread": request_thread(regrade=regrade),
        # Students see the test as on their results page: a hidden test only as count and
        # points. Staff see the current rows it is about, output included.
        "tests": request_tests(regrade, view.shown),
        "results": view,
        "code": main.text if main else "",
        "outcomes": RegradeRequest.Outcome.choices,
    })


@login_required
@require_POST
def regrade_request_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    regrade, staff = _visible_request(request, pk)
    if not staff:
        raise Http404
    try:
        services.regrade_request_resolve(request=regrade, by=request.user,
                                         outcome=request.POST.get("outcome", ""),
                                         note=request.POST.get("note", ""))
    except ServiceError as exc:
        flash(request, exc)
    else:
        messages.success(request, "Request resolved; the student sees your note.")
    return redirect("regrade_request", pk=regrade.pk)


@login_required
def course_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: the course's open flags and regrade requests, with code and tests."""
    course = _staff_course(request, pk)
    return render(request, "feedback_loop/queue.html", {
        "course": course,
        "queue": staff_queue(course=course),
        "flag_outcomes": Flag.Outcome.choices,
        "request_outcomes": RegradeRequest.Outcome.choices,
    })


@login_required
@require_POST
def flag_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(
        Flag.objects.select_related("feedback__submission__assignment__course"), pk=pk
    )
    course = flag.feedback.submission.assignment.course
    if not is_course_staff(user=request.user, course=course):
        raise Http404
    try:
        services.flag_resolve(flag=flag, by=request.user, outcome=request.POST.get("outcome", ""),
                              note=request.POST.get("note", ""))
    except ServiceError as exc:
        flash(request, exc)
    else:
        messages.success(request, "Flag resolved.")
    return redirect("course_queue", pk=course.pk)


@login_required
def comment_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: every saved comment of the course, editable in one place."""
    course = _staff_course(request, pk)
    return render(request, "feedback_loop/comments.html", {
        "course": course, "comments": comments_for_course(course=course),
    })


@login_required
@require_POST
def comment_edit(request: HttpRequest, pk: int, comment_id: int) -> HttpResponse:
    course = _staff_course(request, pk)
    comment = get_object_or_404(SavedComment, pk=comment_id, course=course)
    if request.POST.get("action") == "delete":
        services.saved_comment_delete(comment=comment)
        messages.info(request, "Comment deleted.")
        return redirect("comment_list", pk=course.pk)
    try:
        services.saved_comment_update(
            comment=comment, explanation=request.POST.get("explanation", ""),
            hint=request.POST.get("hint", ""), test_name=request.POST.get("test_name", ""),
            category=request.POST.get("category", ""),
        )
    except ServiceError as exc:
        flash(request, exc)
    else:
        messages.success(request, "Comment saved.")
    return redirect("comment_list", pk=course.pk)


@login_required
@require_POST
def comment_use(request: HttpRequest, pk: int, feedback_id: int, comment_id: int) -> HttpResponse:
    """One click in the review queue: release the pending feedback with a saved comment."""
    course = _staff_course(request, pk)
    feedback = get_object_or_404(
        Feedback.objects.select_related("submission__assignment"), pk=feedback_id,
        submission__assignment__course=course, status=Feedback.Status.PENDING_REVIEW,
    )
    comment = get_object_or_404(SavedComment, pk=comment_id, course=course)
    services.saved_comment_use(feedback=feedback, comment=comment)
    messages.success(request, "Released with your saved comment.")
    return redirect("review_queue", pk=course.pk)
