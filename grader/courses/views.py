from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from grader.courses.forms import (
    AssignmentCreateForm,
    AssignmentSettingsForm,
    ExtensionForm,
    PackageReplaceForm,
)
from grader.courses.models import Assignment, Course, Enrollment
from grader.courses.selectors import (
    assignment_list_for_role,
    assignment_package_cautions,
    course_role,
    enrollment_list_for_user,
    extension_list_for_assignment,
    visible_assignments,
)
from grader.courses.services import (
    assignment_create_from_upload,
    assignment_package_replace_from_upload,
    assignment_reference_check_request,
    extension_set,
)
from grader.feedback.forms import FeedbackSettingsForm
from grader.feedback.selectors import feedback_config_for_assignment
from grader.lib.errors import NotFound
from grader.lms.release import results_release_pending
from grader.lms.selectors import course_has_lms_roster
from sandbox.package import PackageError


def role_or_404(request: HttpRequest, course: Course) -> str:
    """The user's role in ``course``, for views of a course's pages.

    Outsiders get 404, not 403: a guessed URL does not even confirm the course exists."""
    role = course_role(user=request.user, course=course)
    if role is None:
        raise Http404
    return role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    enrollments = [(e, visible_assignments(e)) for e in enrollment_list_for_user(user=request.user)]
    return render(request, "courses/home.html", {"enrollments": enrollments})


@login_required
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    role = role_or_404(request, course)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "role": role,
            "assignments": assignment_list_for_role(course=course, role=role),
            "is_staff": role != Enrollment.Role.STUDENT,
            "is_teacher": role == Enrollment.Role.TEACHER,
            "has_lms_roster": course_has_lms_roster(course=course),
        },
    )


def _teacher_or_404(request: HttpRequest, course: Course) -> None:
    if role_or_404(request, course) != Enrollment.Role.TEACHER:
        raise Http404


@login_required
def assignment_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A teacher uploads an assignment package (zip) and sets deadline, attempts, penalties."""
    course = get_object_or_404(Course, pk=pk)
    _teacher_or_404(request, course)
    form = AssignmentCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "package"}
        try:
            assignment = assignment_create_from_upload(
                course=course, upload=form.cleaned_data["package"], **fields
            )
        except PackageError as exc:
            form.add_error("package", str(exc))
        else:
            messages.success(request, f"Created “{assignment.title}”.")
            _warn_cautions(request, assignment)
            if assignment.reference_status == Assignment.ReferenceStatus.PENDING:
                messages.info(request, "Your reference solution is being checked (graded twice).")
            return redirect("assignment_detail", pk=assignment.pk)
    return render(
        request,
        "courses/assignment_new.html",
        {"course": course, "form": form},
        status=400 if form.errors else 200,
    )


def _warn_cautions(request: HttpRequest, assignment: Assignment) -> None:
    found = assignment_package_cautions(assignment=assignment)
    if found:
        messages.info(request, f"{len(found)} set-up(s) shared between tests: a test that "
                               "uses one first replays the earlier tests that share it (see "
                               "“Tests that share set-up” in the settings).")


@login_required
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Deadline, late penalty, attempts, cooldown, publication, per-student extensions, the
    assignment's feedback settings, its package (replace it) and the reference solution check."""
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    _teacher_or_404(request, assignment.course)
    form = AssignmentSettingsForm(instance=assignment)
    extension_form = ExtensionForm()
    config = feedback_config_for_assignment(assignment=assignment)
    feedback_form = FeedbackSettingsForm(instance=config)
    package_form = PackageReplaceForm()
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "package":
        package_form = PackageReplaceForm(request.POST, request.FILES)
        if package_form.is_valid():
            try:
                assignment_package_replace_from_upload(
                    assignment=assignment, upload=package_form.cleaned_data["package"]
                )
            except PackageError as exc:
                package_form.add_error("package", str(exc))
            else:
                messages.success(
                    request,
                    "Package replaced: new submissions are graded with it. Regrade from the "
                    "dashboard to grade earlier ones again.",
                )
                _warn_cautions(request, assignment)
                return redirect("assignment_edit", pk=assignment.pk)
    elif action == "reference":
        assignment_reference_check_request(assignment=assignment)
        if assignment.reference_status == Assignment.ReferenceStatus.PENDING:
            messages.success(request, "The reference solution is being checked again.")
        return redirect("assignment_edit", pk=assignment.pk)
    elif request.method == "POST" and request.POST.get("action") == "feedback":
        feedback_form = FeedbackSettingsForm(request.POST, instance=config)
        if feedback_form.is_valid():
            feedback_form.save()
            messages.success(request, "Feedback settings saved.")
            return redirect("assignment_edit", pk=assignment.pk)
    elif request.method == "POST" and request.POST.get("action") == "extension":
        extension_form = ExtensionForm(request.POST)
        if extension_form.is_valid():
            try:
                extension_set(
                    assignment=assignment,
                    username=extension_form.cleaned_data["username"],
                    due_at=extension_form.cleaned_data["due_at"],
                )
            except NotFound as exc:
                extension_form.add_error("username", exc.message)
            else:
                messages.success(request, "Extension saved.")
                return redirect("assignment_edit", pk=assignment.pk)
    elif request.method == "POST":
        form = AssignmentSettingsForm(request.POST, instance=assignment)
        if form.is_valid():
            form.save()
            if {"release_policy", "due_at"} & set(form.changed_data):
                # What the new settings release now reaches the LMS at once, not at the sweep.
                results_release_pending(assignment=assignment)
            messages.success(request, "Settings saved.")
            return redirect("assignment_edit", pk=assignment.pk)
    errors = form.errors or extension_form.errors or feedback_form.errors or package_form.errors
    return render(
        request,
        "courses/assignment_edit.html",
        {
            "assignment": assignment,
            "form": form,
            "extension_form": extension_form,
            "feedback_form": feedback_form,
            "package_form": package_form,
            "extensions": extension_list_for_assignment(assignment=assignment),
            "package_cautions": assignment_package_cautions(assignment=assignment),
        },
        status=400 if errors else 200,
    )
