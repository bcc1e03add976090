"""The dashboard: real-world precision from flags, and how the next attempt did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grader.courses.services import enrollment_set
from grader.feedback.models import Feedback
from grader.feedback.services import feedback_bulk_release, feedback_release
from grader.feedback_loop.models import Flag, Release
from grader.feedback_loop.selectors import feedback_outcomes
from grader.submissions.models import Submission
from tests.feedback_loop.factories import feedback, graded

pytestmark = pytest.mark.django_db
FIXED = [("test_positive", "visible", True, 1), ("test_negative", "visible", True, 1),
         ("SECRET-hidden-name", "hidden", False, 2)]
ALL_PASS = [("test_positive", "visible", True, 1), ("test_negative", "visible", True, 1),
            ("SECRET-hidden-name", "hidden", True, 2)]


def carol(world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="carol", password="pw-carol")
    enrollment_set(course=world.course, user=user, role="student")
    return user


def released(world, student, **kw) -> Feedback:
    fb = feedback(graded(world, student), status=Feedback.Status.PENDING_REVIEW, **kw)
    feedback_release(feedback=fb)  # records the release time
    return fb


def test_each_release_path_records_when_the_student_could_first_read_it(world):
    fb = released(world, world.alice)
    first = Release.objects.get(feedback=fb).released_at
    feedback_release(feedback=fb)  # already visible: nothing new
    assert Release.objects.get(feedback=fb).released_at == first
    other = feedback(graded(world, world.bob), status=Feedback.Status.PENDING_REVIEW)
    feedback_bulk_release(course=world.course, min_agreement=1.0)
    assert Release.objects.filter(feedback=other).exists()
    never = feedback(graded(world, world.alice), status=Feedback.Status.PENDING_REVIEW)
    assert not Release.objects.filter(feedback=never).exists()


def test_precision_is_the_share_of_released_explanations_not_flagged_wrong(client, world):
    a, b = released(world, world.alice), released(world, world.bob)
    c = released(world, carol(world))
    feedback(graded(world, world.alice), status=Feedback.Status.PENDING_REVIEW)  # not released
    Flag.objects.create(feedback=a, kind="wrong", created_by=world.alice, outcome="upheld")
    Flag.objects.create(feedback=a, kind="unclear", created_by=world.alice)
    Flag.objects.create(feedback=b, kind="gave_away", created_by=world.bob)
    Feedback.objects.filter(pk=c.pk).update(status="rejected")  # rejected, never flagged
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.released, out.flagged_wrong) == (2, 1)
    assert out.not_flagged_wrong == 0.5
    kinds = {k.kind: (k.flags, k.upheld, k.open) for k in out.kinds}
    assert kinds == {"wrong": (1, 1, 0), "unclear": (1, 0, 1), "gave_away": (1, 0, 1)}

    client.force_login(world.ta)
    page = client.get(reverse("assignment_submissions", args=[world.assignment.pk]))
    text = page.content.decode()
    assert "<strong>50%</strong> of 2 released explanations not flagged “wrong”" in text


def test_a_withdrawn_explanation_still_counts_as_released(world):
    fb = released(world, world.alice)
    Flag.objects.create(feedback=fb, kind="wrong", created_by=world.alice, outcome="withdrawn")
    Feedback.objects.filter(pk=fb.pk).update(status="rejected")
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.released, out.flagged_wrong, out.not_flagged_wrong) == (1, 1, 0)


def test_next_attempt_passing_the_grounding_test_is_counted(client, world):
    released(world, world.alice)  # grounded in test_negative
    graded(world, world.alice, tests=FIXED)  # fixes it, the hidden one still fails
    released(world, world.bob, grounding="")  # hidden grounding: the failing tests stand in
    graded(world, world.bob, tests=FIXED)  # test_negative fixed, the hidden one not
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.explained_test.total, out.explained_test.passed) == (2, 1)
    assert (out.explained_all.total, out.explained_all.passed) == (2, 0)
    client.force_login(world.teacher)
    text = client.get(reverse("assignment_submissions", args=[world.assignment.pk])
                      ).content.decode()
    assert 'id="next-attempts"' in text and "<strong>50%</strong> <span class=\"muted\">(1)" in text


def test_failing_attempts_without_a_seen_explanation_are_the_comparison(world):
    student = carol(world)
    graded(world, student)  # no feedback at all
    graded(world, student, tests=ALL_PASS)
    fb = feedback(graded(world, world.bob), status=Feedback.Status.REJECTED)
    graded(world, world.bob)  # still failing
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.unexplained_all.total, out.unexplained_all.passed) == (2, 1)
    assert out.explained_test.total == 0 and fb.pk


def test_an_attempt_made_before_the_release_does_not_count(world):
    fb = feedback(graded(world, world.alice), status=Feedback.Status.PENDING_REVIEW)
    nxt = graded(world, world.alice, tests=FIXED)
    Submission.objects.filter(pk=nxt.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    feedback_release(feedback=fb)
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.explained_test.total, out.released_too_late) == (0, 1)


def test_attempts_that_could_not_be_graded_are_skipped(world):
    released(world, world.alice)
    broken = graded(world, world.alice)
    Submission.objects.filter(pk=broken.pk).update(status="ungradable")
    graded(world, world.alice, tests=FIXED)
    out = feedback_outcomes(assignment=world.assignment)
    assert (out.explained_test.total, out.explained_test.passed) == (1, 1)


def test_the_outcomes_cost_the_same_queries_at_any_size(world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            feedback_outcomes(assignment=world.assignment)
        return len(ctx)

    released(world, world.alice)
    small = queries()
    graded(world, world.alice, tests=FIXED)
    fb = released(world, world.bob)
    Flag.objects.create(feedback=fb, kind="wrong", created_by=world.bob)
    graded(world, world.bob)
    released(world, carol(world))
    assert queries() == small
