"""The sweeper and regrade services against the database (no broker: sends are recorded)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from grader.grading import services as grading_services
from grader.grading.models import TestResult
from grader.ops.sweeper import submissions_sweep
from grader.submissions.models import Submission
from sandbox.grade import GradeReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "grader.grading.tasks.enqueue_grading",
        lambda submission_id, *, queue="grading": calls.append((submission_id, queue)) or True,
    )
    return calls


def make(world, student, attempt, status, **fields):
    return Submission.objects.create(
        assignment=world.assignment, student=student, attempt=attempt, status=status, **fields
    )


def test_sweeper_resends_only_queued_rows_older_than_the_threshold(
    world, sent, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    old = make(world, world.alice, 1, "queued", queued_at=now - timedelta(seconds=400))
    fresh = make(world, world.alice, 2, "queued", queued_at=now - timedelta(seconds=10))
    batch = make(world, world.bob, 1, "queued", queue="batch", queued_at=now - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        report = submissions_sweep(now=now)
    assert sorted(report.resent) == sorted([old.id, batch.id])
    assert sorted(sent) == sorted([(old.id, "grading"), (batch.id, "batch")])
    assert fresh.id not in report.resent
    old.refresh_from_db()
    assert old.status == "queued" and old.queued_at == now
    # The next sweep right after waits a whole period before re-sending the same row.
    with django_capture_on_commit_callbacks(execute=True):
        assert submissions_sweep(now=now + timedelta(seconds=1)).resent == []


def test_sweeper_recovers_running_rows_past_the_hard_limit_and_gives_up_after_max(
    world, sent, settings, django_capture_on_commit_callbacks
):
    settings.SWEEPER_MAX_RECOVERIES = 2
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER + 1)
    dead = make(world, world.alice, 1, "running", started_at=stale)
    alive = make(world, world.alice, 2, "running", started_at=now - timedelta(seconds=5))
    hopeless = make(world, world.bob, 1, "running", started_at=stale, recoveries=2)
    with django_capture_on_commit_callbacks(execute=True):
        report = submissions_sweep(now=now)
    assert report.recovered == [dead.id]
    assert report.failed == [hopeless.id]
    assert sent == [(dead.id, "grading")]
    dead.refresh_from_db()
    alive.refresh_from_db()
    hopeless.refresh_from_db()
    assert (dead.status, dead.recoveries, dead.started_at) == ("queued", 1, None)
    assert alive.status == "running"
    assert hopeless.status == "failed_infra" and "died 3 times" in hopeless.error


def test_a_worker_whose_claim_was_recovered_stores_nothing(world):
    submission = make(world, world.alice, 1, "queued")
    claimed_at = grading_services.submission_claim(submission_id=submission.id)
    assert claimed_at is not None
    assert grading_services.submission_claim(submission_id=submission.id) is None
    # The sweeper gives the row to another worker, which claims it again.
    grading_services.submission_requeue(submission_id=submission.id)
    second = grading_services.submission_claim(submission_id=submission.id)
    report = GradeReport(tests=[], score=0, max_score=0, gradable=True, compile_output="")
    stale = grading_services.submission_store_report(
        submission=submission, report=report, claimed_at=claimed_at
    )
    fresh = grading_services.submission_store_report(
        submission=submission, report=report, claimed_at=second
    )
    submission.refresh_from_db()
    assert (stale, fresh, submission.status, submission.gradings) == (False, True, "graded", 1)


def graded(world, student, attempt, score):
    submission = make(world, student, attempt, "graded", score=score, max_score=9, gradings=1)
    TestResult.objects.create(
        submission=submission,
        position=0,
        name="t",
        kind="io",
        score=score,
        max_score=9,
        verdict="passed",
        visibility="visible",
    )
    return submission


def test_regrade_requeues_finished_submissions_on_batch_keeping_old_results(
    world, sent, django_capture_on_commit_callbacks
):
    a1 = graded(world, world.alice, 1, 3)
    a2 = graded(world, world.alice, 2, 9)
    b1 = graded(world, world.bob, 1, 0)
    running = make(world, world.bob, 2, "running", started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        ids = grading_services.submission_regrade(assignment=world.assignment)
    assert sorted(ids) == sorted([a1.id, a2.id, b1.id])
    assert sorted(sent) == sorted((i, "batch") for i in ids)
    a1.refresh_from_db()
    assert (a1.status, a1.queue, a1.score) == ("queued", "batch", 3)  # old score kept meanwhile
    assert TestResult.objects.count() == 3  # old results kept until the new ones replace them
    running.refresh_from_db()
    assert running.status == "running"


def test_regrade_latest_takes_each_students_highest_attempt(
    world, sent, django_capture_on_commit_callbacks
):
    graded(world, world.alice, 1, 3)
    a2 = graded(world, world.alice, 2, 9)
    b1 = graded(world, world.bob, 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        ids = grading_services.submission_regrade(
            assignment=world.assignment, scope="latest_per_student"
        )
    assert sorted(ids) == sorted([a2.id, b1.id])


def test_regrade_then_grading_replaces_results_without_duplicates(
    world, sent, django_capture_on_commit_callbacks
):
    submission = graded(world, world.alice, 1, 3)
    with django_capture_on_commit_callbacks(execute=True):
        grading_services.submission_regrade(assignment=world.assignment)
    claimed_at = grading_services.submission_claim(submission_id=submission.id)
    report = GradeReport(tests=[], score=9, max_score=9, gradable=True, compile_output="")
    assert grading_services.submission_store_report(
        submission=submission, report=report, claimed_at=claimed_at
    )
    submission.refresh_from_db()
    assert (submission.status, submission.score, submission.gradings) == ("graded", 9, 2)
    assert TestResult.objects.filter(submission=submission).count() == 0  # report had no tests


def test_regrade_command_prints_the_count(world, sent, capsys):
    graded(world, world.alice, 1, 3)
    call_command("regrade", str(world.assignment.pk), "--latest")
    assert "1 submission(s)" in capsys.readouterr().out
