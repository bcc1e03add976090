"""Queue fairness with real processes: two `celery worker`s on a private Redis, the real sandbox
and the test database (Postgres in CI). A student who queued four submissions holds at most
GRADING_MAX_RUNNING_PER_STUDENT=1 worker; another student's single upload, queued behind all
four, is graded on the other worker while her first one runs, and every one is graded once."""

from __future__ import annotations

import pytest

from grader.submissions.models import Submission
from tests.ops.test_faults import (  # noqa: F401 (fixtures)
    all_final,
    assert_graded_exactly_once,
    private_redis,
    slow_assignment,
    start_worker,
    submit,
    wait_for,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.django_db(transaction=True),
]


def test_one_students_queued_submissions_do_not_hold_up_anothers(
    world, slow_assignment, start_worker, settings  # noqa: F811
):
    assert settings.GRADING_MAX_RUNNING_PER_STUDENT == 1  # the default; the workers read theirs
    alices = submit(slow_assignment, world.alice, 4)
    (bobs,) = submit(slow_assignment, world.bob, 1)  # its message is the fifth in the queue
    start_worker()
    start_worker()
    ids = [*alices, bobs]
    wait_for(lambda: all_final(ids), 120, "every submission to be graded")
    assert_graded_exactly_once(ids)
    rows = {s.id: s for s in Submission.objects.filter(id__in=ids)}
    # Alice's gradings never overlapped: one slot per student.
    spans = sorted((rows[i].started_at, rows[i].finished_at) for i in alices)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end, "two of one student's submissions were graded at once"
    # Bob's started before Alice's second: the free worker took it while her first ran
    # (her later messages were deferred at the claim), not after all four of hers.
    assert rows[bobs].started_at < spans[1][0]
