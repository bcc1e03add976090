"""Per-student upload limits: repeated failing builds and upload floods are refused with a
message saying when to come back; nothing is stored; staff and other students are unaffected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grader.courses.services import assignment_create_from_package
from grader.grading.services import submission_grade
from grader.lib.errors import RateLimited
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db
GOOD = [("solution.py", b"def add(a, b):\n    return a + b\n")]
BROKEN = [("solution.py", b"def add(a, b)\n    return a + b\n")]  # a syntax error: no build


def upload(world, uploads=GOOD, student=None, assignment=None) -> Submission:
    return submission_create(assignment=assignment or world.assignment,
                             student=student or world.alice, uploads=uploads)


def failed_build(world, student=None, assignment=None) -> Submission:
    submission = upload(world, BROKEN, student, assignment)
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.GRADED, gradable=False, score=0, max_score=9
    )
    return submission


@pytest.fixture
def limits(settings, world):
    world.assignment.max_attempts = None
    world.assignment.save()
    settings.FAILED_BUILD_LIMIT = 3
    settings.FAILED_BUILD_WINDOW_MINUTES = 30
    settings.STUDENT_UPLOAD_LIMIT = 0
    return settings


def test_repeated_failing_builds_are_refused_until_the_oldest_leaves_the_window(world, limits):
    builds = [failed_build(world) for _ in range(3)]
    with pytest.raises(RateLimited) as refused:
        upload(world)
    assert refused.value.code == "failed_builds"
    assert 29 * 60 <= (refused.value.retry_after or 0) <= 30 * 60
    message = refused.value.message
    assert "(solution.py) was not stored" in message
    assert "3 of your uploads for this assignment did not compile in the last 30 minutes" in message
    assert "You can upload again in 30 min" in message or "in 29 min" in message
    assert Submission.objects.filter(student=world.alice).count() == 3  # nothing stored
    # The oldest failed build leaves the window: one more upload is allowed.
    Submission.objects.filter(pk=builds[0].pk).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    assert upload(world).attempt == 4


def test_the_failed_build_limit_is_per_student_and_per_assignment_and_spares_staff(
    world, limits
):
    other = assignment_create_from_package(
        course=world.course, source=EXAMPLES / "packages" / "add_two_numbers"
    )
    for _ in range(3):
        failed_build(world)
        failed_build(world, student=world.teacher)
    with pytest.raises(RateLimited):
        upload(world)
    assert upload(world, assignment=other).attempt == 1
    assert upload(world, student=world.bob).attempt == 1
    assert upload(world, student=world.teacher).attempt == 4


def test_failed_builds_interleaved_with_compiling_uploads_still_count(world, limits):
    for _ in range(2):
        failed_build(world)
        upload(world)  # compiles (QUEUED here): does not reset the failed builds' count
    failed_build(world)
    with pytest.raises(RateLimited, match="did not compile"):
        upload(world)


def test_a_failed_build_limit_of_zero_turns_it_off(world, limits):
    limits.FAILED_BUILD_LIMIT = 0
    for _ in range(5):
        failed_build(world)
    assert upload(world).attempt == 6


@pytest.mark.sandbox
def test_real_failing_builds_count_towards_the_limit(world, limits):
    """Through the real sandbox: the syntax error is the build's, the submission uses no
    attempt, and the next upload after the limit is refused."""
    limits.FAILED_BUILD_LIMIT = 2
    for _ in range(2):
        graded = submission_grade(submission_id=upload(world, BROKEN).pk)
        assert graded is not None and not graded.gradable and not graded.uses_attempt
    with pytest.raises(RateLimited, match="did not compile"):
        upload(world, BROKEN)


def test_an_upload_flood_is_refused_across_assignments(world, settings):
    world.assignment.max_attempts = None
    world.assignment.save()
    settings.STUDENT_UPLOAD_LIMIT = 3
    settings.STUDENT_UPLOAD_WINDOW_MINUTES = 10
    other = assignment_create_from_package(
        course=world.course, source=EXAMPLES / "packages" / "add_two_numbers"
    )
    first = upload(world)
    upload(world)
    upload(world, assignment=other)
    with pytest.raises(RateLimited, match="uploaded 3 times in the last 10 minutes"):
        upload(world, assignment=other)
    assert upload(world, student=world.bob).attempt == 1
    assert upload(world, student=world.ta).attempt == 1
    # An upload that could not be graded (our fault, not hers) gives its place back.
    Submission.objects.filter(pk=first.pk).update(status=Submission.Status.FAILED_INFRA)
    assert upload(world).attempt == 3


def test_the_upload_page_shows_the_refusal_and_keeps_the_student_on_it(client, world, limits):
    for _ in range(3):
        failed_build(world)
    client.force_login(world.alice)
    response = client.post(
        f"/assignments/{world.assignment.pk}/",
        {"upload": _file("solution.py", GOOD[0][1])},
    )
    assert response.status_code == 400  # the form again, with the refusal as its error
    assert "was not stored" in response.content.decode()
    assert "did not compile in the last 30 minutes" in response.content.decode()
    assert Submission.objects.filter(student=world.alice).count() == 3


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
