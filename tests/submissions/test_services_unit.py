"""submission_create's refusals, each its own typed error with the student's sentence."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from grader.lib.errors import Conflict, Forbidden, NoAttemptsLeft, UploadRefused
from grader.submissions import services
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
GOOD = [("solution.py", b"def add(a, b):\n    return a + b\n")]


def upload(world, student, uploads=GOOD):
    return submission_create(assignment=world.assignment, student=student, uploads=uploads)


def test_someone_outside_the_course_is_forbidden(world):
    with pytest.raises(Forbidden, match="not enrolled") as refused:
        upload(world, world.outsider)
    assert refused.value.http_status == 403


def test_an_unpublished_assignment_is_forbidden_to_students_but_open_to_staff(world):
    world.assignment.is_published = False
    world.assignment.save()
    with pytest.raises(Forbidden, match="not open yet"):
        upload(world, world.alice)
    assert upload(world, world.ta).attempt == 1


def test_a_bad_upload_is_refused_with_the_intakes_sentence_and_uses_nothing(world):
    with pytest.raises(UploadRefused) as refused:
        upload(world, world.alice, [("solution.py", b"\xff\xfe\x00")])
    assert "not a text file" in refused.value.message
    assert refused.value.code == "upload_refused" and refused.value.http_status == 400
    assert not Submission.objects.exists()


def test_no_attempts_left_names_the_limit(world):
    for _ in range(3):
        upload(world, world.alice)
    with pytest.raises(NoAttemptsLeft, match="used all 3 attempts") as refused:
        upload(world, world.alice)
    assert refused.value.http_status == 409
    assert upload(world, world.bob).attempt == 1


def test_an_upload_that_keeps_losing_the_attempt_number_race_is_a_conflict(world, monkeypatch):
    def lose(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "_submission_store", lose)
    with pytest.raises(Conflict, match="Another upload is in progress") as refused:
        upload(world, world.alice)
    assert refused.value.code == "upload_in_progress"
