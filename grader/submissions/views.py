from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from grader.courses.models import Assignment
from grader.courses.selectors import is_course_staff
from grader.grading.selectors import results_for_viewer
from grader.submissions.models import Submission
from grader.submissions.selectors import queue_position, submission_list_for_teacher


def _visible_submission(request: HttpRequest, pk: int) -> tuple[Submission, bool]:
    """The submission if the user owns it or teaches its course; 404 for everyone else."""
    submission = get_object_or_404(
        Submission.objects.select_related("assignment__course", "student"), pk=pk
    )
    staff = is_course_staff(user=request.user, course=submission.assignment.course)
    if not staff and submission.student_id != request.user.pk:
        raise Http404
    return submission, staff


def _status_context(submission: Submission, staff: bool) -> dict[str, object]:
    return {
        "submission": submission,
        "staff": staff,
        "results": results_for_viewer(submission=submission, staff=staff),
        "queue_position": queue_position(submission=submission),
    }


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission, staff = _visible_submission(request, pk)
    context = _status_context(submission, staff)
    context["files"] = submission.files.all()
    return render(request, "submissions/submission_detail.html", context)


@login_required
def submission_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the submission page, polled until the status is final."""
    submission, staff = _visible_submission(request, pk)
    return render(request, "submissions/_status.html", _status_context(submission, staff))


@login_required
def assignment_submissions(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    if not is_course_staff(user=request.user, course=assignment.course):
        raise Http404
    return render(
        request,
        "submissions/assignment_submissions.html",
        {
            "assignment": assignment,
            "submissions": submission_list_for_teacher(assignment=assignment),
        },
    )
