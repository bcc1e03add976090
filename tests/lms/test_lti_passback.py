"""AGS passback against the simulated platform (tests/lms/test_lti_platform.py): a withheld score
is posted as "Pending" with no score and the full one at release; only changed grades are
sent; the latest graded submission wins whatever order the posts finish in; a line item is
looked up by resource id before one is created; the sweep re-sends a lost post."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from grader.courses.models import Assignment
from grader.lms.lti.models import LtiGradeTarget, LtiLineItem, LtiScorePost, LtiUser
from grader.lms.lti.passback import lti_score_post_attempt, lti_submission_graded
from grader.submissions.models import Submission
from tests.feedback_loop.factories import graded
from tests.lms.test_lti import launch, learner_claims, lti  # noqa: F401 - lti is a fixture

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LINEITEM = "/lineitems/7/lineitem"


def _student(lti: Any, sub: str = "lms-user-42", **claims: Any) -> Any:  # noqa: F811
    assert launch(Client(), lti, learner_claims(lti, sub=sub, **claims)).status_code == 302
    return LtiUser.objects.get(sub=sub).user


def _send_all() -> None:
    for post in LtiScorePost.objects.filter(status="pending").order_by("id"):
        lti_score_post_attempt(post_id=post.pk)


def _book(lti: Any, sub: str = "lms-user-42", lineitem: str = LINEITEM) -> dict[str, Any]:  # noqa: F811
    return lti.platform.gradebook[(lti.platform.base_url + lineitem, sub)]


def _regrade(submission: Submission, score: float) -> None:
    Submission.objects.filter(pk=submission.pk).update(score=score)


def test_a_withheld_score_is_posted_as_pending_and_the_full_score_at_release(
    lti: Any,  # noqa: F811
) -> None:
    from grader.lms.release import results_release_sweep

    a = lti.world.assignment
    Assignment.objects.filter(pk=a.pk).update(
        release_policy="after_due", due_at=timezone.now() + timedelta(hours=1)
    )
    student = _student(lti)
    submission = graded(lti.world, student)  # 1 / 4
    lti_submission_graded(submission.pk)
    _send_all()
    pending = _book(lti)
    assert "scoreGiven" not in pending and pending["gradingProgress"] == "Pending"
    assert pending["activityProgress"] == "Submitted" and pending["scoreMaximum"] == 4
    due = Assignment.objects.get(pk=a.pk).due_at.astimezone(UTC)
    assert pending["comment"].endswith(f"released after the due date, {due:%Y-%m-%d %H:%M} UTC.")

    Assignment.objects.filter(pk=a.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert results_release_sweep() == [submission.pk]
    _send_all()
    full = _book(lti)
    assert (full["scoreGiven"], full["scoreMaximum"], full["gradingProgress"]) == (
        1, 4, "FullyGraded"
    )


def test_only_changed_grades_are_sent(lti: Any) -> None:  # noqa: F811
    student = _student(lti)
    submission = graded(lti.world, student)
    lti_submission_graded(submission.pk)
    lti_submission_graded(submission.pk)  # a regrade with the same score
    _send_all()
    assert len(lti.platform.scores()) == 1
    _regrade(submission, 3)
    lti_submission_graded(submission.pk)
    _send_all()
    assert [s["scoreGiven"] for s in lti.platform.scores()] == [1, 3]


def test_a_score_posts_message_delivered_twice_posts_once(lti: Any) -> None:  # noqa: F811
    """Issue 12: the LTI retry had no claim, so two deliveries of one message posted twice."""
    student = _student(lti)
    lti_submission_graded(graded(lti.world, student).pk)
    (post,) = LtiScorePost.objects.all()
    assert lti_score_post_attempt(post_id=post.pk) is None  # sent
    assert lti_score_post_attempt(post_id=post.pk) is None  # the duplicate finds it sent
    assert len(lti.platform.scores()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_on_postgres_post_once(lti: Any) -> None:  # noqa: F811
    """Issue 12: two workers given the same message at the same moment (a redelivery while the
    first is still talking to a slow LMS) post the score once: the second waits on the grade
    target's row lock, then finds the post sent. Real threads, real connections."""
    student = _student(lti)
    lti_submission_graded(graded(lti.world, student).pk)
    (post,) = LtiScorePost.objects.all()
    assert post.status == LtiScorePost.Status.PENDING
    lti.platform.score_delay = 0.5  # both tries are in flight while the first one waits
    start = threading.Barrier(2)
    answers: list[float | None] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            start.wait()
            answers.append(lti_score_post_attempt(post_id=post.pk))
        except BaseException as exc:  # shown below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and answers == [None, None]
    assert len(lti.platform.scores()) == 1
    post.refresh_from_db()
    assert (post.status, post.attempts) == (LtiScorePost.Status.SENT, 1)


def test_an_older_attempt_graded_last_posts_nothing(lti: Any) -> None:  # noqa: F811
    student = _student(lti)
    first = graded(lti.world, student)
    second = graded(lti.world, student)
    _regrade(second, 4)
    lti_submission_graded(second.pk)
    lti_submission_graded(first.pk)  # finished grading after the newer attempt
    _send_all()
    assert [s["scoreGiven"] for s in lti.platform.scores()] == [4]


def test_an_older_score_retried_after_a_newer_one_is_never_sent(
    lti: Any, settings: Any  # noqa: F811
) -> None:
    settings.LTI_SCORE_BACKOFF_SECONDS = 1
    student = _student(lti)
    first = graded(lti.world, student)
    lti_submission_graded(first.pk)
    (old,) = LtiScorePost.objects.all()
    lti.platform.fail_scores = 1
    assert lti_score_post_attempt(post_id=old.pk) == 1  # the LMS was down: retry later

    second = graded(lti.world, student)
    _regrade(second, 4)
    lti_submission_graded(second.pk)
    new = LtiScorePost.objects.get(submission=second)
    assert lti_score_post_attempt(post_id=new.pk) is None  # the newer one arrives first
    assert lti_score_post_attempt(post_id=old.pk) is None  # ...and the old retry comes last
    old.refresh_from_db()
    assert old.status == LtiScorePost.Status.SUPERSEDED
    assert [s["scoreGiven"] for s in lti.platform.scores()] == [4]
    assert _book(lti)["scoreGiven"] == 4


def test_posts_finishing_in_any_order_leave_the_latest_grade(lti: Any) -> None:  # noqa: F811
    student = _student(lti)
    first, second = graded(lti.world, student), graded(lti.world, student)
    _regrade(second, 4)
    lti_submission_graded(first.pk)  # graded first, while attempt 2 was still queued
    lti_submission_graded(second.pk)
    posts = list(LtiScorePost.objects.order_by("-id"))  # newest try runs first
    for post in posts:
        lti_score_post_attempt(post_id=post.pk)
    assert _book(lti)["scoreGiven"] == 4
    assert [s["scoreGiven"] for s in lti.platform.scores()] == [4]


def test_a_line_item_is_looked_up_by_resource_id_before_one_is_created(
    lti: Any,  # noqa: F811
) -> None:
    def no_lineitem_claims() -> dict[str, Any]:
        ags = {k: v for k, v in learner_claims(lti)[AGS].items() if k != "lineitem"}
        return {AGS: ags}

    ada = _student(lti, sub="ada", **no_lineitem_claims())
    bob = _student(lti, sub="bob-lms", **no_lineitem_claims())
    assert LtiGradeTarget.objects.filter(lineitem_url="").count() == 2
    for student in (ada, bob):
        lti_submission_graded(graded(lti.world, student).pk)
    _send_all()
    created = [r for r in lti.platform.requests if r["method"] == "POST"
               and r["path"] == "/lineitems"]
    assert len(created) == 1  # one line item for the assignment, not one per student
    (item,) = lti.platform.lineitems
    assert item["resourceId"] == f"grader-assignment-{lti.world.assignment.pk}"
    lineitem = item["id"].removeprefix(lti.platform.base_url)
    assert _book(lti, "ada", lineitem)["scoreGiven"] == 1
    assert _book(lti, "bob-lms", lineitem)["scoreGiven"] == 1

    # A tool that lost its own record (a new install) finds the platform's item again.
    LtiLineItem.objects.all().delete()
    _regrade(Submission.objects.filter(student=ada).get(), 3)
    lti_submission_graded(Submission.objects.filter(student=ada).get().pk)
    _send_all()
    assert len(lti.platform.lineitems) == 1
    assert _book(lti, "ada", lineitem)["scoreGiven"] == 3


def test_the_sweep_resends_a_score_post_whose_message_was_lost(
    lti: Any, settings: Any, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    from grader.lms.lti import tasks
    from grader.lms.lti.passback import lti_score_posts_sweep

    student = _student(lti)
    submission = graded(lti.world, student)
    lti_submission_graded(submission.pk)  # its message is never delivered (on_commit dropped)
    (post,) = LtiScorePost.objects.all()
    assert lti_score_posts_sweep() == []  # not overdue yet
    LtiScorePost.objects.filter(pk=post.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER + 5)
    )
    monkeypatch.setattr(tasks.post_score_task, "delay", tasks.post_score_task)  # run inline
    with django_capture_on_commit_callbacks(execute=True):
        assert lti_score_posts_sweep() == [post.pk]
    post.refresh_from_db()
    assert post.status == LtiScorePost.Status.SENT and _book(lti)["scoreGiven"] == 1


def test_the_delivery_view_shows_what_was_sent_and_resends(
    lti: Any, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    from grader.lms.lti import tasks

    student = _student(lti)
    submission = graded(lti.world, student)
    lti.platform.fail_scores = 1
    lti_submission_graded(submission.pk)
    _send_all()  # one failed try: 503
    url = f"/lms/assignments/{lti.world.assignment.pk}/deliveries/"
    client = Client()
    client.force_login(lti.world.alice)
    assert client.get(url).status_code == 404  # students never see it
    client.force_login(lti.world.teacher)
    page = client.get(url).content.decode()
    assert "HTTP 503" in page and "next try" in page and "1 try" in page

    target = LtiGradeTarget.objects.get()
    monkeypatch.setattr(tasks.post_score_task, "delay", tasks.post_score_task)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/lms/lti-targets/{target.pk}/resend/").status_code == 302
    assert _book(lti)["scoreGiven"] == 1
    page = client.get(url).content.decode()
    assert "HTTP 200" in page and "resent by staff" in page
