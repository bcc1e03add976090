"""The teacher's review queue, and what a student sees of feedback before and after release."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grader.feedback.models import Feedback
from grader.grading.models import TestResult
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
CODE = b"def add(a, b):\n    if a < 0:\n        return b - a\n    return a + b\n"


def pending(world, student, agreement: float, line: int = 3,
            verification: str = "validated") -> Feedback:
    submission = submission_create(assignment=world.assignment, student=student,
                                   uploads=[("solution.py", CODE)])
    Submission.objects.filter(pk=submission.pk).update(status="graded", score=0, max_score=1)
    TestResult.objects.create(submission=submission, position=0, name="test_negative",
                              kind="pytest", score=0, max_score=1, verdict="failed",
                              visibility="visible", output="assert 2 == 0")
    won = {"line": line, "category": "wrong_operator", "explanation": "b - a flips the sign"}
    repair = "        return SECRET_REPAIR + a"
    return Feedback.objects.create(
        submission=submission, status=Feedback.Status.PENDING_REVIEW, line=line,
        category="wrong_operator", explanation="SECRET-model-text: b - a flips the sign",
        hint="Check the sign.", agreement=agreement, samples_count=3,
        samples=[{"text": "t", "parsed": won}, {"text": "t", "parsed": won},
                 {"text": "other", "parsed": {"line": 1, "category": "other"}}],
        verification=verification, repair=repair, repair_source="search",
        grounding_test="test_negative", explanation_source="template",
        candidates=[{"line": line, "text": repair, "status": "validated",
                     "fixed": ["test_negative"], "still_failing": 0, "broke": 0,
                     "checked_passing": 4}],
        voters=[{"line": line, "origin": "search", "status": "validated", "repair": repair},
                {"line": line, "origin": "model", "status": "validated", "repair": repair},
                {"line": 1, "origin": "model", "status": "rejected", "repair": "x = 1"}],
    )


@pytest.mark.parametrize(("who", "status"), [("teacher", 200), ("ta", 200), ("alice", 404),
                                             ("outsider", 404)])
def test_review_queue_is_for_course_staff_only(client, world, who, status):
    client.force_login(getattr(world, who))
    assert client.get(reverse("review_queue", args=[world.course.pk])).status_code == status


def test_queue_lists_lowest_agreement_first_with_code_line_and_votes(client, world):
    confident = pending(world, world.alice, 1.0)
    unsure = pending(world, world.bob, 0.34)
    client.force_login(world.teacher)
    response = client.get(reverse("review_queue", args=[world.course.pk]))
    items = response.context["items"]
    assert [i.feedback.pk for i in items] == [unsure.pk, confident.pk]
    assert len(items[0].backing) == 2 and len(items[0].others) == 1
    assert items[0].votes == 1  # round(0.34 * 3)
    assert [n for n, _, hit in items[0].code if hit] == [3]
    page = response.content.decode()
    assert "3/3 validated votes" in page and "test_negative" in page
    # the teacher sees the checked repair and what it did; students never do (below)
    assert "SECRET_REPAIR" in page and "Makes 1 failing test pass" in page


def test_student_sees_feedback_only_after_a_teacher_approves_it(client, world):
    fb = pending(world, world.alice, 0.67)
    urls = [reverse("submission_detail", args=[fb.submission_id]),
            reverse("submission_status", args=[fb.submission_id])]
    client.force_login(world.alice)
    assert all("SECRET-model-text" not in client.get(u).content.decode() for u in urls)
    client.force_login(world.teacher)
    client.post(reverse("review_action", args=[world.course.pk, fb.pk]), {"action": "approve"})
    client.force_login(world.alice)
    assert all("SECRET-model-text" in client.get(u).content.decode() for u in urls)
    assert all("SECRET_REPAIR" not in client.get(u).content.decode() for u in urls)


def test_edit_then_approve_replaces_the_text(client, world):
    fb = pending(world, world.alice, 0.67)
    client.force_login(world.ta)
    client.post(reverse("review_action", args=[world.course.pk, fb.pk]),
                {"action": "edit", "explanation": "Line 3 subtracts.", "hint": "Which sign?"})
    fb.refresh_from_db()
    assert (fb.status, fb.explanation, fb.hint) == ("released", "Line 3 subtracts.", "Which sign?")


def test_rejected_feedback_never_reaches_the_student(client, world):
    fb = pending(world, world.alice, 0.67)
    client.force_login(world.teacher)
    client.post(reverse("review_action", args=[world.course.pk, fb.pk]), {"action": "reject"})
    fb.refresh_from_db()
    assert fb.status == "rejected"
    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[fb.submission_id])).content.decode()
    assert "SECRET-model-text" not in page


def test_bulk_approve_releases_only_validated_items_at_or_above_the_threshold(client, world):
    low = pending(world, world.alice, 0.34)
    high = pending(world, world.bob, 0.75)
    unchecked = pending(world, world.alice, 1.0, verification="unverified")
    client.force_login(world.teacher)
    client.post(reverse("review_bulk_approve", args=[world.course.pk]), {"min_agreement": "0.75"})
    for fb in (low, high, unchecked):
        fb.refresh_from_db()
    assert (low.status, high.status) == ("pending_review", "released")
    assert unchecked.status == "pending_review"  # an unverified one needs a teacher each


def test_staff_of_another_course_cannot_act_on_this_feedback(client, world):
    fb = pending(world, world.alice, 0.67)
    client.force_login(world.outsider)
    url = reverse("review_action", args=[world.course.pk, fb.pk])
    assert client.post(url, {"action": "approve"}).status_code == 404
    fb.refresh_from_db()
    assert fb.status == "pending_review"
