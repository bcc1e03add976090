from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.selectors import course_role, enrollment_list_for_user
from grader.submissions.forms import UploadForm
from grader.submissions.selectors import attempts_used, submission_list_for_student
from grader.submissions.services import submission_create


def _role_or_404(request: HttpRequest, course: Course) -> str:
    # Outsiders get 404, not 403: a guessed URL does not even confirm the course exists.
    role = course_role(user=request.user, course=course)
    if role is None:
        raise Http404
    return role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "courses/home.html", {"enrollments": enrollment_list_for_user(user=request.user)}
    )


@login_required
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    role = _role_or_404(request, course)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "role": role,
            "assignments": course.assignments.all(),
            "is_staff": role != Enrollment.Role.STUDENT,
        },
    )


@login_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    role = _role_or_404(request, assignment.course)
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                submission = submission_create(
                    assignment=assignment, student=request.user, uploads=form.cleaned_data["upload"]
                )
            except ValidationError as exc:
                form.add_error("upload", exc)
            else:
                for note in filter(None, submission.notes.splitlines()):
                    messages.info(request, note)
                return redirect("submission_detail", pk=submission.pk)
    used = attempts_used(assignment=assignment, student=request.user)
    left = None if assignment.max_attempts is None else max(assignment.max_attempts - used, 0)
    return render(
        request,
        "courses/assignment_detail.html",
        {
            "assignment": assignment,
            "role": role,
            "is_staff": role != Enrollment.Role.STUDENT,
            "form": form,
            "submissions": submission_list_for_student(assignment=assignment, student=request.user),
            "attempts_left": left,
        },
        status=400 if form.errors else 200,
    )
