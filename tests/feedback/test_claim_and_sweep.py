"""Feedback is generated once per row (a claim), and a lost or orphaned task is re-sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grader.feedback.models import Feedback
from grader.feedback.services import feedback_claim, feedback_generate, feedback_sweep
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
CODE = b"def add(a, b):\n    return a - b\n"


def pending(world) -> Feedback:
    submission = submission_create(assignment=world.assignment, student=world.alice,
                                   uploads=[("solution.py", CODE)])
    Submission.objects.filter(pk=submission.pk).update(status="graded", score=0, max_score=1)
    return Feedback.objects.create(submission=submission)


def test_a_second_worker_finds_the_row_claimed_and_does_nothing(world):
    fb = pending(world)
    assert feedback_claim(feedback_id=fb.id) is not None
    assert feedback_claim(feedback_id=fb.id) is None  # a duplicated message
    again = feedback_generate(submission_id=fb.submission_id)
    assert again.status == Feedback.Status.PENDING and again.sandbox_runs == 0


def test_a_claim_older_than_the_hard_limit_belongs_to_a_dead_worker(world, settings):
    fb = pending(world)
    old = timezone.now() - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER + 5)
    Feedback.objects.filter(id=fb.id).update(claimed_at=old)
    assert feedback_claim(feedback_id=fb.id) is not None


def test_the_sweeper_resends_lost_and_orphaned_feedback_only(world, settings,
                                                              django_capture_on_commit_callbacks):
    lost = pending(world)
    quiet = timezone.now() - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER + 5)
    Feedback.objects.filter(id=lost.id).update(updated_at=quiet)
    busy = Feedback.objects.create(submission=submission_create(
        assignment=world.assignment, student=world.bob, uploads=[("solution.py", CODE)]),
        claimed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resent = feedback_sweep()
    assert resent == [lost.submission_id] and len(callbacks) == 1
    assert busy.submission_id not in resent  # a live claim is left alone
    assert feedback_sweep() == []  # touched: the next sweep waits another period


def test_no_feedback_row_for_a_failure_feedback_cannot_check_without_a_model(world, settings):
    from grader.feedback.services import feedback_wanted
    from grader.grading.models import TestResult

    settings.FEEDBACK_SAMPLES = 0
    fb = pending(world)
    submission = Submission.objects.get(pk=fb.submission_id)
    TestResult.objects.create(submission=submission, position=0, name="no loops", kind="static",
                              score=0, max_score=1, verdict="failed", visibility="visible")
    assert not feedback_wanted(submission)  # a static rule: nothing to trace or re-run
    settings.FEEDBACK_SAMPLES = 4
    assert feedback_wanted(submission)  # a model can still say something (unverified)
    TestResult.objects.create(submission=submission, position=1, name="t", kind="pytest",
                              score=0, max_score=1, verdict="failed", visibility="visible")
    settings.FEEDBACK_SAMPLES = 0
    assert feedback_wanted(submission)


def test_a_teacher_edit_is_credited_to_the_teacher_on_the_student_page(world):
    from django.template.loader import render_to_string

    from grader.feedback.services import feedback_edit_and_release

    fb = pending(world)
    feedback_edit_and_release(feedback=fb, explanation="Look at the sign.", hint="Which?")
    fb.refresh_from_db()
    html = render_to_string("feedback/_feedback.html", {"feedback": fb})
    assert fb.explanation_source == "teacher" and "wrote this text" in html
    assert "a model wrote" not in html
