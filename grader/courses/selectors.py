"""Reads for courses, and the one place that answers 'what may this user do here'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from grader.courses.models import Assignment, Course, Enrollment, Extension
from sandbox.harness.lint import package_cautions
from sandbox.package import PackageError, load_package


def course_role(*, user: Any, course: Course) -> str | None:
    """The user's role in ``course`` (teacher, ta, student) or None for outsiders."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Enrollment.Role.TEACHER
    return (
        Enrollment.objects.filter(user=user, course=course).values_list("role", flat=True).first()
    )


def is_course_staff(*, user: Any, course: Course) -> bool:
    return course_role(user=user, course=course) in (Enrollment.Role.TEACHER, Enrollment.Role.TA)


def enrollment_list_for_user(*, user: Any) -> QuerySet[Enrollment]:
    """The user's enrollments with the assignments they may see (students: published only)."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course")
        .prefetch_related("course__assignments")
        .order_by("course__code")
    )


def visible_assignments(enrollment: Enrollment) -> list[Assignment]:
    assignments = list(enrollment.course.assignments.all())  # prefetched
    if enrollment.role == Enrollment.Role.STUDENT:
        return [a for a in assignments if a.is_published]
    return assignments


def assignment_list_for_course(*, course: Course) -> QuerySet[Assignment]:
    return course.assignments.all()


def assignment_list_for_role(*, course: Course, role: str) -> QuerySet[Assignment]:
    """The course's assignments a user with ``role`` sees: students the published ones."""
    assignments = course.assignments.all()
    if role == Enrollment.Role.STUDENT:
        return assignments.filter(is_published=True)
    return assignments


def extension_list_for_assignment(*, assignment: Assignment) -> QuerySet[Extension]:
    return assignment.extensions.select_related("student").order_by("student__username")


def extension_count(*, assignment: Assignment) -> int:
    return assignment.extensions.count()


def course_roles_for_user(*, user: Any) -> dict[int, str]:
    """course id → the user's role there, for every course the user is enrolled in."""
    return dict(Enrollment.objects.filter(user=user).values_list("course_id", "role"))


def assignment_package_cautions(*, assignment: Assignment) -> list[str]:
    """What the teacher should know about the assignment's tests although they run: each a
    test, its line and what behaves differently than under plain pytest (``lint.cautions``)."""
    try:
        package = load_package(Path(assignment.package_path))
    except (PackageError, OSError):
        return []
    return [str(f) for f in package_cautions(package)]
