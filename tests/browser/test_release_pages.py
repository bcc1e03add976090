"""Real browser: a teacher sets "release after the due date" and gives a student an extension;
students see what waits and until when; once the due date has passed the periodic sweep
releases one student's results (the other's extension still runs). Then the per-student LMS
delivery view: a webhook and an LTI score that failed, and a resend of each from the page,
against a local webhook receiver and the simulated LTI platform.

Graded submissions are stored as the workers would store them (the grading path has its own
browser test in test_pages.py). Screenshots land in $SCREENSHOT_DIR (default var/screenshots),
numbered 51-57.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.test_pages import browser, login, shot  # noqa: F401 - browser is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TESTS = [("test_positive", "visible", True, 1), ("test_negative", "visible", False, 1),
         ("test_large_values", "hidden", False, 2)]


def _local(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_release_after_the_due_date_with_an_extension(
    browser, live_server, world  # noqa: F811 - browser is a fixture
):
    from django.utils import timezone

    from grader.courses.models import Assignment
    from grader.feedback.models import Feedback
    from grader.ops.tasks import sweep_task
    from tests.feedback_loop.factories import feedback, graded

    base = live_server.url
    due = timezone.now() + timedelta(hours=2)
    extended = due + timedelta(days=2)

    # The teacher chooses the policy on the settings page and gives alice two more days.
    teacher = login(browser, live_server, "teacher")
    teacher.goto(f"{base}/assignments/{world.assignment.pk}/edit/")
    teacher.fill("#settings-form input[name=due_at]", _local(due))
    teacher.select_option("#settings-form select[name=release_policy]", "after_due")
    teacher.click("#settings-form button[type=submit]")
    teacher.wait_for_selector("text=Settings saved.")
    teacher.fill("#extension-form input[name=username]", "alice")
    teacher.fill("#extension-form input[name=due_at]", _local(extended))
    teacher.click("#extension-form button[type=submit]")
    teacher.wait_for_selector("text=Extension saved.")
    assignment = Assignment.objects.get(pk=world.assignment.pk)
    assert assignment.release_policy == "after_due" and assignment.due_at is not None
    teacher.locator("#settings-form").screenshot(
        path=str(_shots() / "51-teacher-release-policy.png"))

    alices = graded(world, world.alice, tests=TESTS)
    bobs = graded(world, world.bob, tests=TESTS)
    feedback(bobs, status=Feedback.Status.RELEASED)  # approved, but the policy holds it back

    # Before the due date bob sees his visible tests, and what waits until when.
    bob = login(browser, live_server, "bob")
    bob.goto(f"{base}/submissions/{bobs.pk}/")
    wait = bob.inner_text("#release-wait")
    assert "after the due date" in wait and timezone.localtime(due).strftime("%H:%M") in wait
    assert bob.inner_text("#score") == "waiting for release"
    assert "test_negative" in bob.content() and "Line 3 subtracts" not in bob.content()
    assert "1 / 4" not in bob.content() and "0 / 2" not in bob.content()
    shot(bob, "52-student-waiting-for-release")

    # The due date passes; nobody opens a page; the periodic sweep releases bob's results.
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert sweep_task()["results_released"] == 1
    bob.goto(f"{base}/submissions/{bobs.pk}/")
    assert bob.inner_text("#score") == "1 / 4"
    assert "0 / 2 points" in bob.inner_text("#hidden-summary")
    assert "Line 3 subtracts" in bob.inner_text(".feedback")
    shot(bob, "53-student-released-after-the-due-date")

    # Alice's extension still runs: her results wait for her own deadline.
    alice = login(browser, live_server, "alice")
    alice.goto(f"{base}/submissions/{alices.pk}/")
    wait = alice.inner_text("#release-wait")
    assert "your extended due date" in wait
    assert timezone.localtime(extended).strftime("%Y-%m-%d %H:%M") in wait
    assert alice.inner_text("#score") == "waiting for release"
    shot(alice, "54-student-extension-still-waiting")

    teacher.goto(f"{base}/submissions/{alices.pk}/")
    assert "their extension" in teacher.inner_text("#student-release")
    assert teacher.inner_text("#score") == "1 / 4"

    # The teacher may end the wait for everyone from the dashboard.
    teacher.goto(f"{base}/assignments/{assignment.pk}/submissions/")
    assert "1 student with an extension" in teacher.inner_text("#release")
    teacher.locator("#release").screenshot(path=str(_shots() / "57-teacher-release-card.png"))
    teacher.click("#release-form button")
    teacher.wait_for_selector("text=Results released")
    assert "Released to every student" in teacher.inner_text("#release")
    alice.goto(f"{base}/submissions/{alices.pk}/")
    assert alice.inner_text("#score") == "1 / 4"


def test_a_resend_from_the_delivery_view(
    browser, live_server, world, settings  # noqa: F811 - browser is a fixture
):
    from grader.celery import app as celery_app
    from grader.lms.lti.models import LtiGradeTarget, LtiPlatform, LtiScorePost, LtiUser
    from grader.lms.lti.passback import lti_score_post_attempt, lti_submission_graded
    from grader.lms.lti.services import SCORE_SCOPE, lti_platform_generate_keys
    from grader.lms.models import CourseIntegration, WebhookDelivery
    from grader.lms.webhooks import submission_graded_notify, webhook_delivery_attempt
    from tests.feedback_loop.factories import graded
    from tests.lms.test_lti_platform import (
        CLIENT_ID,
        DEPLOYMENT_ID,
        ISSUER,
        Platform,
        PlatformServer,
    )
    from tests.lms.test_outbound import Receiver

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    settings.LMS_WEBHOOK_MAX_ATTEMPTS = 2
    settings.LMS_WEBHOOK_BACKOFF_SECONDS = 0.01
    settings.LTI_SCORE_MAX_ATTEMPTS = 2
    settings.LTI_SCORE_BACKOFF_SECONDS = 0
    previous = celery_app.conf.task_always_eager
    receiver = Receiver()
    platform = Platform()
    try:
        with PlatformServer(platform):
            row = LtiPlatform(
                name="Moodle (simulated)", issuer=ISSUER, client_id=CLIENT_ID,
                deployment_ids=DEPLOYMENT_ID, auth_login_url=ISSUER + "/auth",
                auth_token_url=platform.base_url + "/token",
                key_set_url=platform.base_url + "/jwks", course=world.course,
            )
            lti_platform_generate_keys(platform=row)
            row.save()
            platform.tool_public_pem = row.tool_public_key
            for student in (world.alice, world.bob):
                LtiGradeTarget.objects.create(
                    lti_user=LtiUser.objects.create(platform=row, sub=f"lms-{student.username}",
                                                    user=student),
                    assignment=world.assignment,
                    lineitem_url=platform.base_url + "/lineitems/7/lineitem",
                    scopes=[SCORE_SCOPE],
                )
            CourseIntegration.objects.create(course=world.course, secret="s3cret",
                                             callback_url=receiver.url)
            # Alice's grade goes through; bob's fails twice at the LMS and at the receiver.
            # The tries run here, as a worker would run them one after another.
            alices = graded(world, world.alice, tests=TESTS)
            bobs = graded(world, world.bob, tests=TESTS)
            for submission in (alices, bobs):
                receiver.script = [500, 500] if submission == bobs else []
                platform.fail_scores = 2 if submission == bobs else 0
                submission_graded_notify(submission.pk)
                lti_submission_graded(submission.pk)
                for _ in range(2):
                    for d in WebhookDelivery.objects.filter(status="pending"):
                        webhook_delivery_attempt(delivery_id=d.pk)
                    for p in LtiScorePost.objects.filter(status="pending"):
                        lti_score_post_attempt(post_id=p.pk)
            assert WebhookDelivery.objects.get(submission=bobs).status == "dead"
            assert LtiScorePost.objects.get(submission=bobs).status == "failed"

            # From here the resends' tasks run inline in the web process.
            celery_app.conf.task_always_eager = True
            teacher = login(browser, live_server, "teacher")
            teacher.goto(f"{live_server.url}/assignments/{world.assignment.pk}/submissions/")
            teacher.click("#deliveries-link")
            row_bob = teacher.locator("#student-bob")
            assert "HTTP 503" in row_bob.inner_text() and "HTTP 500" in row_bob.inner_text()
            assert "Failed (gave up)" in row_bob.inner_text()
            assert "HTTP 200" in teacher.inner_text("#student-alice")
            shot(teacher, "55-teacher-deliveries-failed")

            row_bob.locator("button.resend-lti").click()
            teacher.wait_for_selector("text=Score queued for the LMS again")
            teacher.locator("#student-bob button.resend-webhook").click()
            teacher.wait_for_selector("text=queued again as")
            row_bob = teacher.locator("#student-bob")
            assert "resent by staff" in row_bob.inner_text()
            assert "Failed" not in row_bob.inner_text() and "Dead" not in row_bob.inner_text()
            assert row_bob.inner_text().count("HTTP 200") == 2
            shot(teacher, "56-teacher-deliveries-resent")
            book = platform.gradebook[(platform.base_url + "/lineitems/7/lineitem", "lms-bob")]
            assert book["scoreGiven"] == 1
            assert len(receiver.requests) == 4  # alice's, bob's two failures, the resend
    finally:
        celery_app.conf.task_always_eager = previous
        receiver.close()


def _shots():
    from tests.browser.test_pages import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
