"""grader.lib.outbox.is_due: a message that comes well before its row's next try is a copy."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from grader.lib.outbox import DUE_SLACK, is_due


def test_a_try_is_due_at_or_after_its_time_and_when_the_row_has_none():
    now = timezone.now()
    assert is_due(None, now=now)
    assert is_due(now - timedelta(minutes=5), now=now)
    assert is_due(now, now=now)


def test_a_message_within_the_clock_slack_runs_and_one_earlier_is_a_copy():
    now = timezone.now()
    assert is_due(now + DUE_SLACK, now=now)
    assert not is_due(now + DUE_SLACK + timedelta(seconds=1), now=now)
    assert not is_due(now + timedelta(seconds=30), now=now)
