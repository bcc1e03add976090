"""A teacher's edited explanation saved as a reusable comment, suggested and reused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grader.courses.models import Course
from grader.feedback.models import Feedback
from grader.feedback_loop.models import SavedComment
from tests.feedback_loop.factories import feedback, graded

pytestmark = pytest.mark.django_db
EDITED = "Line 3 computes b - a. What should add(-1, 1) give?"


def pending(world, student, **kw) -> Feedback:
    return feedback(graded(world, student), status=Feedback.Status.PENDING_REVIEW, **kw)


def edit(client, world, fb, save=True, explanation=EDITED):
    data = {"action": "edit", "explanation": explanation, "hint": "Try it by hand."}
    if save:
        data["save_comment"] = "on"
    return client.post(reverse("review_action", args=[world.course.pk, fb.pk]), data)


def test_edit_and_approve_can_save_the_text_for_the_test_and_category(client, world):
    fb = pending(world, world.alice)
    client.force_login(world.teacher)
    page = client.get(reverse("review_queue", args=[world.course.pk])).content.decode()
    assert 'name="save_comment"' in page
    edit(client, world, fb)
    fb.refresh_from_db()
    assert (fb.status, fb.explanation) == ("released", EDITED)
    [c] = SavedComment.objects.all()
    assert (c.course, c.assignment, c.test_name, c.category, c.explanation, c.hint,
            c.created_by) == (world.course, world.assignment, "test_negative", "wrong_operator",
                              EDITED, "Try it by hand.", world.teacher)


def test_without_the_tick_nothing_is_saved(client, world):
    fb = pending(world, world.alice)
    client.force_login(world.ta)
    edit(client, world, fb, save=False)
    assert not SavedComment.objects.exists()
    fb.refresh_from_db()
    assert fb.status == "released"


def test_a_hidden_grounding_test_saves_the_first_failing_test(client, world):
    fb = pending(world, world.alice, grounding="")
    client.force_login(world.teacher)
    edit(client, world, fb)
    assert SavedComment.objects.get().test_name == "test_negative"


def test_the_queue_suggests_it_for_the_same_failing_test_and_use_this_releases(client, world):
    first = pending(world, world.alice)
    second = pending(world, world.bob)
    client.force_login(world.teacher)
    edit(client, world, first)
    comment = SavedComment.objects.get()
    response = client.get(reverse("review_queue", args=[world.course.pk]))
    [(item, suggested)] = response.context["reviewed"]
    assert item.feedback == second and suggested == [comment]
    page = response.content.decode()
    assert f'id="suggestions-{second.pk}"' in page and "What should add(-1, 1) give?" in page
    client.post(reverse("comment_use", args=[world.course.pk, second.pk, comment.pk]))
    second.refresh_from_db()
    comment.refresh_from_db()
    assert (second.status, second.explanation, second.hint) == ("released", EDITED,
                                                                "Try it by hand.")
    assert comment.uses == 1
    client.force_login(world.bob)
    page = client.get(reverse("submission_detail", args=[second.submission_id])).content.decode()
    assert "What should add(-1, 1) give?" in page and "SECRET_REPAIR" not in page


def test_suggestions_rank_same_test_first_then_same_category(client, world):
    by_test = SavedComment.objects.create(course=world.course, assignment=world.assignment,
                                          test_name="test_negative", category="off_by_one",
                                          explanation="by test")
    by_category = SavedComment.objects.create(course=world.course, assignment=world.assignment,
                                              test_name="test_other", category="wrong_operator",
                                              explanation="by category", uses=10)
    SavedComment.objects.create(course=world.course, assignment=world.assignment,
                                test_name="test_other", category="off_by_one",
                                explanation="unrelated")
    SavedComment.objects.create(course=world.other_course, test_name="test_negative",
                                category="wrong_operator", explanation="another course")
    pending(world, world.alice)
    client.force_login(world.teacher)
    response = client.get(reverse("review_queue", args=[world.course.pk]))
    [(_, suggested)] = response.context["reviewed"]
    assert suggested == [by_test, by_category]


def test_the_catch_all_category_suggests_nothing_by_itself(client, world):
    SavedComment.objects.create(course=world.course, assignment=world.assignment,
                                test_name="test_other", category="other", explanation="x")
    pending(world, world.alice, category="other")
    client.force_login(world.teacher)
    [(_, suggested)] = client.get(
        reverse("review_queue", args=[world.course.pk])).context["reviewed"]
    assert suggested == []


def test_comments_are_edited_and_deleted_in_one_place(client, world):
    comment = SavedComment.objects.create(course=world.course, assignment=world.assignment,
                                          test_name="test_negative", category="wrong_operator",
                                          explanation="old text")
    client.force_login(world.ta)
    url = reverse("comment_list", args=[world.course.pk])
    assert "old text" in client.get(url).content.decode()
    edit_url = reverse("comment_edit", args=[world.course.pk, comment.pk])
    client.post(edit_url, {"action": "save", "explanation": "new text", "hint": "h",
                           "test_name": "test_positive", "category": "off_by_one"})
    comment.refresh_from_db()
    assert (comment.explanation, comment.hint, comment.test_name, comment.category) == (
        "new text", "h", "test_positive", "off_by_one")
    client.post(edit_url, {"action": "save", "explanation": "  "})  # empty: refused
    comment.refresh_from_db()
    assert comment.explanation == "new text"
    client.post(edit_url, {"action": "delete"})
    assert not SavedComment.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("teacher", 200), ("ta", 200), ("alice", 404),
                                             ("outsider", 404)])
def test_the_comments_page_is_for_course_staff_only(client, world, who, status):
    comment = SavedComment.objects.create(course=world.course, explanation="keep me")
    client.force_login(getattr(world, who))
    assert client.get(reverse("comment_list", args=[world.course.pk])).status_code == status
    response = client.post(reverse("comment_edit", args=[world.course.pk, comment.pk]),
                           {"action": "delete"})
    assert response.status_code == (302 if status == 200 else 404)


def test_students_and_outsiders_cannot_use_or_edit_comments(client, world):
    comment = SavedComment.objects.create(course=world.course, explanation="keep me")
    fb = pending(world, world.alice)
    for who in (world.alice, world.outsider):
        client.force_login(who)
        assert client.post(reverse("comment_use", args=[world.course.pk, fb.pk,
                                                        comment.pk])).status_code == 404
        assert client.post(reverse("comment_edit", args=[world.course.pk, comment.pk]),
                           {"action": "delete"}).status_code == 404
    fb.refresh_from_db()
    assert fb.status == "pending_review" and SavedComment.objects.exists()


def test_a_comment_of_another_course_or_a_released_item_cannot_be_used(client, world):
    elsewhere = SavedComment.objects.create(course=world.other_course, explanation="theirs")
    ours = SavedComment.objects.create(course=world.course, explanation="ours")
    fb = pending(world, world.alice)
    client.force_login(world.teacher)
    url = reverse("comment_use", args=[world.course.pk, fb.pk, elsewhere.pk])
    assert client.post(url).status_code == 404
    Feedback.objects.filter(pk=fb.pk).update(status="released")
    url = reverse("comment_use", args=[world.course.pk, fb.pk, ours.pk])
    assert client.post(url).status_code == 404
    fb.refresh_from_db()
    assert fb.explanation.startswith("Line 3 subtracts")
    assert Course.objects.count() == 2
