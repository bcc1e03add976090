"""Real browser: a student flags an explanation and asks for a regrade; a teacher resolves
both from the course's queue, saves an edited explanation as a reusable comment and reuses it
with one click on a similar submission; the dashboard shows how the feedback did.

The graded submissions and their feedback are stored as the workers would store them (the
grading and feedback path has its own browser test in test_pages.py). Screenshots land in
$SCREENSHOT_DIR (default var/screenshots), numbered 41-48.
"""

from __future__ import annotations

import pytest

from tests.browser.test_pages import browser, login, shot  # noqa: F401 - browser is a fixture
from tests.feedback_loop.factories import graded

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
# Named like a real package's tests (the README shows these screenshots); the repair is
# checked against every page a student reads.
TESTS = [("test_positive", "visible", True, 1), ("test_negative", "visible", False, 1),
         ("test_large_values", "hidden", False, 2)]
FIXED = [("test_positive", "visible", True, 1), ("test_negative", "visible", True, 1),
         ("test_large_values", "hidden", False, 2)]
REPAIR = "        return b + a"


def explained(world, student, status):
    from tests.feedback_loop.factories import feedback, graded

    return feedback(graded(world, student, tests=TESTS), status=status, repair=REPAIR)


def test_a_flag_a_resolved_regrade_request_and_a_reused_comment(
    browser, live_server, world  # noqa: F811 - browser is a fixture
):
    from django.contrib.auth import get_user_model

    from grader.courses.services import enrollment_set
    from grader.feedback.models import Feedback
    from grader.feedback.services import feedback_release

    carol = get_user_model().objects.create_user(username="carol", password="pw-carol")
    enrollment_set(course=world.course, user=carol, role="student")
    released = explained(world, world.alice, Feedback.Status.PENDING_REVIEW)
    feedback_release(feedback=released)
    mine = released.submission
    explained(world, world.bob, Feedback.Status.PENDING_REVIEW)
    for_carol = explained(world, carol, Feedback.Status.PENDING_REVIEW)
    base = live_server.url

    # The student reads the released explanation and flags it.
    alice = login(browser, live_server, "alice")
    alice.goto(f"{base}/submissions/{mine.pk}/")
    summary = alice.inner_text("#results-summary")
    assert "1 of 2 public tests passed" in summary and "1 hidden test is graded too" in summary
    alice.click("#flag-form summary")
    alice.check("input[name=kind][value=wrong]")
    alice.fill("#flag-form textarea[name=comment]", "My bug is the if on line 2, not line 3.")
    shot(alice, "41-student-flags-an-explanation")
    alice.click("#flag-submit")
    alice.wait_for_selector("text=your teacher will look at this explanation")
    assert "line 2, not line 3" in alice.inner_text("#flags")

    # ...and asks for a regrade of one test, which opens a thread.
    assert "b + a" not in alice.content()
    alice.select_option("#request-form select[name=test]", "1")
    alice.fill("#request-form textarea[name=message]",
               "add(-1, 1) returns 0 on my machine. Is the test right?")
    alice.click("#request-submit")
    alice.wait_for_selector("#thread")
    thread_url = alice.url
    assert "Is the test right?" in alice.inner_text("#thread")
    assert "b + a" not in alice.content() and "large_values" not in alice.content()
    shot(alice, "42-student-regrade-request")

    # The teacher finds both in the course's queue, with the code and the test.
    teacher = login(browser, live_server, "teacher")
    teacher.click("text=CS101")
    teacher.click("#flags-and-requests")
    teacher.wait_for_selector(".loop-item")
    queue = teacher.content()
    assert "line 2, not line 3" in queue and "Is the test right?" in queue
    assert "return b - a" in queue and "b + a" not in queue  # code, never the repair
    shot(teacher, "43-teacher-flags-and-requests")
    flag_form = teacher.locator("form.resolve").first
    flag_form.locator("select[name=outcome]").select_option("dismissed")
    flag_form.locator("textarea[name=note]").fill(
        "Line 2 is fine: for a < 0 line 3 runs, and b - a is the bug.")
    flag_form.locator("button").click()
    teacher.wait_for_selector("text=Flag resolved.")
    teacher.click("text=Open the thread")
    teacher.fill("#reply textarea", "Thanks — which input did you try?")
    teacher.click("#reply button")
    teacher.wait_for_selector("text=which input did you try?")
    teacher.select_option("#resolve select[name=outcome]", "declined")
    teacher.fill("#resolve textarea[name=note]",
                 "The test is right: add(-1, 1) must be 0, and your code returns 2.")
    teacher.click("#resolve button")
    teacher.wait_for_selector("#resolution")
    shot(teacher, "44-teacher-request-resolved")

    # The student reads both resolutions.
    alice.goto(thread_url)
    assert "Declined" in alice.inner_text("#resolution")
    assert "which input did you try?" in alice.inner_text("#thread")
    shot(alice, "45-student-request-resolved")
    alice.goto(f"{base}/submissions/{mine.pk}/")
    assert "Dismissed: the explanation stands" in alice.inner_text("#flags")

    # The teacher edits bob's explanation, saves it as a reusable comment, and reuses it on
    # carol's similar submission (same assignment, same failing test) with one click.
    teacher.goto(f"{base}/courses/{world.course.pk}/review/")
    first = teacher.locator(".review-item").first
    first.locator("textarea[name=explanation]").fill(
        "Line 3 computes b - a when a is negative. Work out add(-1, 1) by hand: what should "
        "it give, and what does line 3 give?")
    first.locator("input[name=save_comment]").check()
    first.locator("button[value=edit]").click()
    teacher.wait_for_selector("text=Saved as a reusable comment.")
    teacher.wait_for_selector(f"#suggestions-{for_carol.pk}")
    shot(teacher, "46-teacher-review-suggests-a-saved-comment")
    teacher.click(f"#suggestions-{for_carol.pk} .use-comment")
    teacher.wait_for_selector("#empty-queue")
    teacher.goto(f"{base}/courses/{world.course.pk}/comments/")
    assert "used 1 time" in teacher.inner_text("main")
    shot(teacher, "47-teacher-saved-comments")

    carol_page = login(browser, live_server, "carol")
    carol_page.goto(f"{base}/submissions/{for_carol.submission_id}/")
    assert "Work out add(-1, 1) by hand" in carol_page.inner_text(".feedback")
    assert "b + a" not in carol_page.content()

    # Alice's next attempt passes the test her explanation was grounded in.
    graded(world, world.alice, tests=FIXED)
    teacher.goto(f"{base}/assignments/{world.assignment.pk}/submissions/")
    outcomes = teacher.inner_text("#feedback-outcomes")
    assert "of 3 released explanations not flagged" in outcomes
    assert "100%" in teacher.inner_text("#next-attempts")
    teacher.locator("#feedback-outcomes").screenshot(path=str(
        _shots() / "48-teacher-feedback-outcomes.png"))


def _shots():
    from tests.browser.test_pages import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
