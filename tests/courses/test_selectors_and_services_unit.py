"""Direct tests of the courses selectors (who may do what) and services, without a view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grader.courses.models import Enrollment, Extension
from grader.courses.selectors import (
    course_role,
    enrollment_list_for_user,
    is_course_staff,
    visible_assignments,
)
from grader.courses.services import assignment_create_from_package, extension_set
from grader.lib.errors import NotFound
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db


def test_course_role_names_each_member_and_none_for_outsiders_and_anonymous(world):
    assert course_role(user=world.teacher, course=world.course) == Enrollment.Role.TEACHER
    assert course_role(user=world.ta, course=world.course) == Enrollment.Role.TA
    assert course_role(user=world.alice, course=world.course) == Enrollment.Role.STUDENT
    assert course_role(user=world.outsider, course=world.course) is None
    assert course_role(user=AnonymousUser(), course=world.course) is None


def test_a_superuser_is_a_teacher_of_every_course_without_an_enrollment(world, django_user_model):
    admin = django_user_model.objects.create_superuser(username="root", password="pw")
    assert course_role(user=admin, course=world.other_course) == Enrollment.Role.TEACHER
    assert is_course_staff(user=admin, course=world.other_course)


def test_staff_are_teachers_and_tas_only(world):
    assert is_course_staff(user=world.teacher, course=world.course)
    assert is_course_staff(user=world.ta, course=world.course)
    assert not is_course_staff(user=world.alice, course=world.course)
    assert not is_course_staff(user=world.outsider, course=world.course)


def test_students_see_only_published_assignments_and_staff_see_all(world):
    draft = assignment_create_from_package(
        course=world.course, source=EXAMPLES / "packages" / "add_two_numbers"
    )
    draft.is_published = False
    draft.save()
    [alice] = enrollment_list_for_user(user=world.alice)
    [teacher] = enrollment_list_for_user(user=world.teacher)
    assert visible_assignments(alice) == [world.assignment]
    assert {a.pk for a in visible_assignments(teacher)} == {world.assignment.pk, draft.pk}


def test_the_home_page_reads_take_a_fixed_number_of_queries(world, django_user_model):
    for code in ("CS201", "CS301", "CS401"):
        from grader.courses.models import Course
        from grader.courses.services import enrollment_set

        course = Course.objects.create(code=code, title=code)
        enrollment_set(course=course, user=world.alice, role=Enrollment.Role.STUDENT)
    with CaptureQueriesContext(connection) as queries:
        rows = [(e, visible_assignments(e)) for e in enrollment_list_for_user(user=world.alice)]
    assert [e.course.code for e, _ in rows] == ["CS101", "CS201", "CS301", "CS401"]
    assert len(queries) == 2  # enrollments with their courses, then every assignment


def test_extension_set_gives_a_member_a_later_deadline_and_updates_it(world):
    due = timezone.now() + timedelta(days=3)
    extension_set(assignment=world.assignment, username="alice", due_at=due)
    later = due + timedelta(days=1)
    extension_set(assignment=world.assignment, username="alice", due_at=later)
    assert Extension.objects.get(assignment=world.assignment, student=world.alice).due_at == later
    assert world.assignment.due_for(world.alice) == later


def test_extension_set_refuses_a_name_outside_the_course_with_not_found(world):
    with pytest.raises(NotFound, match="No student called 'outsider' in CS101") as refused:
        extension_set(assignment=world.assignment, username="outsider",
                      due_at=timezone.now())
    assert refused.value.http_status == 404
    assert not Extension.objects.exists()
