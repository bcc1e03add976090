from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_POST

from grader.courses.models import Assignment, Enrollment
from grader.courses.release import release_state
from grader.courses.selectors import course_role, extension_count, is_course_staff
from grader.courses.views import role_or_404
from grader.feedback.selectors import feedback_for_staff, feedback_for_student
from grader.feedback_loop.selectors import feedback_outcomes, requests_panel, status_panel
from grader.grading.selectors import results_for_viewer
from grader.grading.services import RegradeScope, submission_regrade
from grader.lib.errors import ServiceError
from grader.submissions.forms import UploadForm
from grader.submissions.models import Submission
from grader.submissions.selectors import (
    assignment_dashboard,
    attempts_used,
    cooldown_left,
    is_late,
    latest_per_student,
    queue_position,
    submission_file_list,
    submission_list_for_student,
    submission_list_for_teacher,
    submission_list_not_graded,
)
from grader.submissions.services import submission_create


@login_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The assignment page: a student uploads a submission here and sees their attempts."""
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    role = role_or_404(request, assignment.course)
    if not assignment.is_published and role == Enrollment.Role.STUDENT:
        raise Http404
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                submission = submission_create(
                    assignment=assignment, student=request.user, uploads=form.cleaned_data["upload"]
                )
            except ServiceError as exc:  # cooldown, refused upload, limits: shown on the form
                form.add_error("upload", exc.message)
            else:
                for note in filter(None, submission.notes.splitlines()):
                    messages.info(request, note)
                return redirect("submission_detail", pk=submission.pk)
    used = attempts_used(assignment=assignment, student=request.user)
    left = None if assignment.max_attempts is None else max(assignment.max_attempts - used, 0)
    due = assignment.due_for(request.user)
    wait = cooldown_left(assignment=assignment, student=request.user)
    submissions = [
        (s, is_late(s, due))
        for s in submission_list_for_student(assignment=assignment, student=request.user)
    ]
    return render(
        request,
        "submissions/assignment_detail.html",
        {
            "assignment": assignment,
            "role": role,
            "is_staff": role != Enrollment.Role.STUDENT,
            "is_teacher": role == Enrollment.Role.TEACHER,
            "form": form,
            "submissions": submissions,
            "attempts_left": left,
            "due": due,
            "has_extension": due != assignment.due_at,
            "past_due": due is not None and timezone.now() > due,
            # What the release policy withholds from this user's own submissions (staff
            # submitting to try the assignment see theirs like a student would).
            "release": release_state(assignment=assignment, student=request.user),
            "cooldown_seconds": int(wait.total_seconds()) + 1 if wait else 0,
        },
        status=400 if form.errors else 200,
    )


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
    results = results_for_viewer(submission=submission, staff=staff)
    return {
        "submission": submission,
        "staff": staff,
        "results": results,
        # What the release policy still withholds from the student, and until when (staff see
        # the student's state as a note; the student's own is ``results.release``).
        "student_release": release_state(
            assignment=submission.assignment, student=submission.student
        ) if staff else results.release,
        "queue_position": queue_position(submission=submission),
        # Students see feedback only once released; staff see its state and a review link.
        "feedback": feedback_for_student(submission) if submission.is_final else None,
        "staff_feedback": feedback_for_staff(submission) if staff else None,
        # The feedback queue (apart from grading's) and the student's flags.
        **status_panel(submission=submission, staff=staff),
    }


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission, staff = _visible_submission(request, pk)
    context = _status_context(submission, staff)
    context["files"] = submission_file_list(submission=submission)
    own = results_for_viewer(submission=submission, staff=False) if not staff else None
    context.update(requests_panel(submission=submission, staff=staff,
                                  shown=own.shown if own else [],
                                  hidden_count=own.hidden_count if own else 0))
    return render(request, "submissions/submission_detail.html", context)


@login_required
def submission_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the submission page, polled until the status is final."""
    submission, staff = _visible_submission(request, pk)
    return render(request, "submissions/_status.html", _status_context(submission, staff))


def _staff_assignment(request: HttpRequest, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    if not is_course_staff(user=request.user, course=assignment.course):
        raise Http404
    return assignment


@login_required
def assignment_submissions(request: HttpRequest, pk: int) -> HttpResponse:
    """The teacher's dashboard: latest per student, pass rate per test, histogram, queue, and
    the submissions that could not be graded, with their cause and a regrade for them."""
    assignment = _staff_assignment(request, pk)
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    if status not in Submission.Status.values:
        status = ""
    board = assignment_dashboard(assignment=assignment, search=search, status=status)
    peak = max((c for _, c in board.histogram), default=0) or 1
    context = {
        "assignment": assignment,
        "board": board,
        "rows": [(r, r.final_score(assignment.late_penalty_percent)) for r in board.rows],
        "histogram": [(label, n, round(100 * n / peak)) for label, n in board.histogram],
        "search": search,
        "status": status,
        "statuses": Submission.Status.choices,
        "all_submissions": submission_list_for_teacher(assignment=assignment)[:200],
        "not_graded": submission_list_not_graded(assignment=assignment)[:200],
        "outcomes": feedback_outcomes(assignment=assignment),
        "release_extensions": extension_count(assignment=assignment),
        "is_teacher": course_role(user=request.user, course=assignment.course)
        == Enrollment.Role.TEACHER,
    }
    return render(request, "submissions/assignment_submissions.html", context)


@login_required
def assignment_grades_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Grades as CSV: one row per student with a submission, latest attempt, penalty applied."""
    assignment = _staff_assignment(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{assignment.course.code}-{assignment.pk}-grades.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "username",
            "first_name",
            "last_name",
            "email",
            "attempts",
            "status",
            "score",
            "max_score",
            "late",
            "final_score",
            "submitted_at",
        ]
    )
    for row in latest_per_student(assignment=assignment):
        s, user = row.latest, row.student
        writer.writerow(
            [
                _csv_safe(user.username),
                _csv_safe(user.first_name),
                _csv_safe(user.last_name),
                _csv_safe(user.email),
                row.attempts,
                s.status,
                s.score,
                s.max_score,
                "yes" if row.late else "no",
                row.final_score(assignment.late_penalty_percent),
                s.created_at.isoformat(),
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required
@require_POST
def assignment_regrade(request: HttpRequest, pk: int) -> HttpResponse:
    """Teachers queue a regrade (all submissions, or the latest per student) on the batch queue."""
    assignment = _staff_assignment(request, pk)
    if course_role(user=request.user, course=assignment.course) != Enrollment.Role.TEACHER:
        raise Http404
    scope = request.POST.get("scope", RegradeScope.LATEST_PER_STUDENT)
    if scope not in RegradeScope.__members__.values():
        scope = RegradeScope.LATEST_PER_STUDENT
    queued = submission_regrade(assignment=assignment, scope=scope)
    messages.success(
        request, f"{len(queued)} submission{pluralize(len(queued))} queued for regrading."
    )
    return redirect("assignment_submissions", pk=assignment.pk)
