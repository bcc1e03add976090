"""Students flag a released explanation; staff resolve flags in the course's queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grader.feedback.models import Feedback
from grader.feedback_loop.models import Flag
from tests.feedback_loop.factories import feedback, graded

pytestmark = pytest.mark.django_db


def flag(client, fb, kind="wrong", comment="It says line 3 but my bug is elsewhere.",
         follow=False):
    return client.post(reverse("flag_create", args=[fb.submission_id]),
                       {"kind": kind, "comment": comment}, follow=follow)


def test_student_flags_their_released_explanation_and_staff_see_it_with_code_and_test(
    client, world
):
    fb = feedback(graded(world, world.alice))
    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert 'id="flag-form"' in page and "gave away the answer" in page
    response = flag(client, fb)
    assert response.status_code == 302
    [f] = Flag.objects.all()
    assert (f.kind, f.created_by, f.is_open) == ("wrong", world.alice, True)
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert "Your flags" in page and "my bug is elsewhere" in page

    client.force_login(world.ta)
    queue = client.get(reverse("course_queue", args=[world.course.pk])).content.decode()
    assert "my bug is elsewhere" in queue
    assert "Line 3 subtracts" in queue  # the explanation the student read
    assert "return b - a" in queue  # the code, and the test it is grounded in:
    assert "test_negative" in queue and "assert add(-1, 1) == 0" in queue
    assert "SECRET_REPAIR" not in queue  # never the repair, not even for staff here


def test_the_course_page_links_the_queue_for_staff_only(client, world):
    url = reverse("course_detail", args=[world.course.pk])
    client.force_login(world.teacher)
    assert reverse("course_queue", args=[world.course.pk]) in client.get(url).content.decode()
    client.force_login(world.alice)
    assert reverse("course_queue", args=[world.course.pk]) not in client.get(url).content.decode()


@pytest.mark.parametrize("who", ["bob", "teacher", "ta", "outsider"])
def test_only_the_submissions_student_may_flag_it(client, world, who):
    fb = feedback(graded(world, world.alice))
    client.force_login(getattr(world, who))
    assert flag(client, fb).status_code == 404
    assert not Flag.objects.exists()


@pytest.mark.parametrize("status", ["pending_review", "rejected", "pending"])
def test_an_explanation_the_student_cannot_read_cannot_be_flagged(client, world, status):
    fb = feedback(graded(world, world.alice), status=status)
    client.force_login(world.alice)
    assert flag(client, fb).status_code == 404
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert 'id="flag-form"' not in page


def test_one_flag_of_each_kind(client, world):
    fb = feedback(graded(world, world.alice))
    client.force_login(world.alice)
    flag(client, fb)
    response = flag(client, fb, comment="again", follow=True)
    assert "already flagged this explanation that way" in response.content.decode()
    flag(client, fb, kind="unclear")
    assert sorted(Flag.objects.values_list("kind", flat=True)) == ["unclear", "wrong"]
    assert flag(client, fb, kind="rude").status_code == 302
    assert Flag.objects.count() == 2


def test_a_resolution_is_recorded_once_and_the_student_reads_it(client, world):
    fb = feedback(graded(world, world.alice))
    client.force_login(world.alice)
    flag(client, fb)
    f = Flag.objects.get()
    client.force_login(world.ta)
    url = reverse("flag_resolve", args=[f.pk])
    client.post(url, {"outcome": "dismissed", "note": "Line 3 is the bug: try add(-1, 1)."})
    f.refresh_from_db()
    assert (f.outcome, f.resolved_by, f.note) == ("dismissed", world.ta,
                                                  "Line 3 is the bug: try add(-1, 1).")
    assert f.resolved_at is not None
    client.force_login(world.teacher)  # a second resolution changes nothing
    client.post(url, {"outcome": "upheld", "note": "overwritten?"})
    f.refresh_from_db()
    assert (f.outcome, f.resolved_by) == ("dismissed", world.ta)
    queue = client.get(reverse("course_queue", args=[world.course.pk])).content.decode()
    assert 'id="no-flags"' in queue and "Line 3 is the bug" in queue  # in the resolved list

    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert "Dismissed: the explanation stands" in page and "try add(-1, 1)" in page
    assert "SECRET_REPAIR" not in page


def test_withdrawing_takes_the_explanation_away_from_the_student(client, world):
    fb = feedback(graded(world, world.alice))
    client.force_login(world.alice)
    flag(client, fb, kind="gave_away")
    client.force_login(world.teacher)
    client.post(reverse("flag_resolve", args=[Flag.objects.get().pk]),
                {"outcome": "withdrawn", "note": "Too close to the answer, sorry."})
    fb.refresh_from_db()
    assert fb.status == Feedback.Status.REJECTED
    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert "Line 3 subtracts" not in page  # gone from the student's page
    assert "Upheld, and the explanation is withdrawn" in page  # the flag's outcome stays


@pytest.mark.parametrize(("who", "status"), [("teacher", 200), ("ta", 200), ("alice", 404),
                                             ("outsider", 404)])
def test_the_queue_is_for_course_staff_only(client, world, who, status):
    client.force_login(getattr(world, who))
    assert client.get(reverse("course_queue", args=[world.course.pk])).status_code == status


@pytest.mark.parametrize("who", ["alice", "bob", "outsider"])
def test_students_and_outsiders_cannot_resolve_a_flag(client, world, who):
    fb = feedback(graded(world, world.alice))
    client.force_login(world.alice)
    flag(client, fb)
    f = Flag.objects.get()
    client.force_login(getattr(world, who))
    response = client.post(reverse("flag_resolve", args=[f.pk]), {"outcome": "dismissed"})
    assert response.status_code == 404
    f.refresh_from_db()
    assert f.is_open


def test_the_queue_costs_the_same_queries_for_one_flag_or_many(client, world):
    client.force_login(world.teacher)
    url = reverse("course_queue", args=[world.course.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    fb = feedback(graded(world, world.alice))
    Flag.objects.create(feedback=fb, kind="wrong", created_by=world.alice)
    one = queries()
    for student in (world.bob, world.alice):
        other = feedback(graded(world, student))
        Flag.objects.create(feedback=other, kind="unclear", created_by=student)
        Flag.objects.create(feedback=other, kind="wrong", created_by=student)
    assert queries() == one
