from __future__ import annotations

import pytest
from django.db import transaction

from grader.lib import events

CALLS: list[tuple[str, int]] = []


def record_one(submission_id: int) -> None:
    CALLS.append(("one", submission_id))


def record_two(submission_id: int) -> None:
    CALLS.append(("two", submission_id))


def fail(submission_id: int) -> None:
    raise RuntimeError("the LMS is down")


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.mark.django_db(transaction=True)
def test_subscribers_run_after_commit_and_a_failing_one_stops_no_other(settings):
    settings.GRADED_HOOKS = [f"{__name__}.record_one", f"{__name__}.fail", f"{__name__}.record_two"]
    with transaction.atomic():
        events.emit(events.GRADED, submission_id=7)
        assert CALLS == []  # not before the commit
    assert CALLS == [("one", 7), ("two", 7)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_event_reaches_no_subscriber(settings):
    settings.FEEDBACK_RELEASED_HOOKS = [f"{__name__}.record_one"]
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(events.FEEDBACK_RELEASED, submission_id=3)
        raise RuntimeError("the release failed")
    assert CALLS == []


@pytest.mark.django_db(transaction=True)
def test_only_if_calls_the_subscribers_off_when_it_says_no(settings):
    settings.GRADED_HOOKS = [f"{__name__}.record_one"]
    events.emit(events.GRADED, submission_id=1, only_if=lambda: False)
    events.emit(events.GRADED, submission_id=2, only_if=lambda: True)
    assert CALLS == [("one", 2)]


def test_an_unknown_event_fails_in_the_emitter():
    with pytest.raises(KeyError):
        events.emit("submission.deleted", submission_id=1)


def test_the_lms_subscribes_to_both_events_and_neither_emitter_calls_its_webhooks(settings):
    from pathlib import Path

    assert "grader.lms.webhooks.submission_graded_notify" in settings.GRADED_HOOKS
    assert "grader.lms.webhooks.feedback_released_notify" in settings.FEEDBACK_RELEASED_HOOKS
    root = Path(__file__).resolve().parents[2] / "grader"
    for emitter in ("grading/services.py", "feedback/services.py"):
        text = (root / emitter).read_text()
        assert "grader.lms.webhooks" not in text and "grader.lms.services" not in text, emitter
