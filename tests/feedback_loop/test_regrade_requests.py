"""A student asks for a regrade of one test, in a thread with staff; staff resolve it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grader.feedback_loop.models import RegradeRequest, RequestMessage
from tests.feedback_loop.factories import feedback, graded

pytestmark = pytest.mark.django_db


def open_request(client, submission, test="1", message="My add(-1, 1) returns 0 locally."):
    return client.post(reverse("regrade_request_create", args=[submission.pk]),
                       {"test": test, "message": message})


def test_student_opens_a_request_on_a_visible_test_and_staff_see_it_with_code_and_test(
    client, world
):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert 'id="request-form"' in page
    assert '<option value="1">test_negative' in page and '<option value="hidden">' in page
    assert "SECRET-hidden-name" not in page
    response = open_request(client, submission)
    [request] = RegradeRequest.objects.all()
    assert response.url == reverse("regrade_request", args=[request.pk])
    assert (request.test_position, request.test_name, request.created_by) == (
        1, "test_negative", world.alice)
    thread = client.get(response.url).content.decode()
    assert "My add(-1, 1) returns 0 locally." in thread and "assert add(-1, 1) == 0" in thread

    client.force_login(world.teacher)
    queue = client.get(reverse("course_queue", args=[world.course.pk])).content.decode()
    assert "returns 0 locally" in queue and "test_negative" in queue and "return b - a" in queue


def test_hidden_tests_are_requested_as_a_whole_and_their_names_stay_hidden(client, world):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission, test="hidden", message="The hidden tests look wrong.")
    request = RegradeRequest.objects.get()
    assert (request.about_hidden, request.test_name) == (True, "")
    thread = client.get(reverse("regrade_request", args=[request.pk])).content.decode()
    assert "the hidden tests" in thread and "1 hidden test: 0 / 2 points" in thread
    assert "SECRET-hidden-name" not in thread and "SECRET-output" not in thread
    client.force_login(world.ta)
    staff = client.get(reverse("regrade_request", args=[request.pk])).content.decode()
    assert "SECRET-hidden-name" in staff and "SECRET-output-of-SECRET-hidden-name" in staff


def test_a_student_cannot_name_a_hidden_test_by_its_position(client, world):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission, test="2")  # position 2 is the hidden test
    open_request(client, submission, test="99")
    assert not RegradeRequest.objects.exists()


def test_one_open_request_per_test_and_a_message_is_required(client, world):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission, message="   ")
    assert not RegradeRequest.objects.exists()
    open_request(client, submission)
    open_request(client, submission, message="again")
    assert RegradeRequest.objects.count() == 1
    open_request(client, submission, test="0", message="this one too")
    assert RegradeRequest.objects.count() == 2


def test_student_and_staff_write_in_the_thread_until_it_is_resolved(client, world):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    url = reverse("regrade_request", args=[request.pk])
    client.force_login(world.ta)
    client.post(url, {"body": "Which Python version do you run?"})
    client.force_login(world.alice)
    client.post(url, {"body": "3.11"})
    thread = list(RequestMessage.objects.values_list("author__username", "from_staff"))
    assert thread == [("alice", False), ("ta", True), ("alice", False)]

    client.force_login(world.teacher)
    client.post(reverse("regrade_request_resolve", args=[request.pk]),
                {"outcome": "declined", "note": "The test is right: add(-1, 1) must be 0."})
    request.refresh_from_db()
    assert (request.outcome, request.resolved_by, request.note) == (
        "declined", world.teacher, "The test is right: add(-1, 1) must be 0.")
    assert request.resolved_at is not None
    client.force_login(world.alice)
    client.post(url, {"body": "But..."})  # closed
    assert RequestMessage.objects.count() == 3
    page = client.get(url).content.decode()
    assert "Declined" in page and "must be 0" in page and 'id="reply"' not in page
    detail = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "Declined" in detail  # the request list on the submission page

    client.force_login(world.ta)  # resolved once: a second resolution changes nothing
    client.post(reverse("regrade_request_resolve", args=[request.pk]),
                {"outcome": "accepted", "note": "changed my mind"})
    request.refresh_from_db()
    assert (request.outcome, request.resolved_by) == ("declined", world.teacher)


def test_a_resolution_needs_an_outcome_and_a_note(client, world):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    client.force_login(world.teacher)
    url = reverse("regrade_request_resolve", args=[request.pk])
    client.post(url, {"outcome": "accepted", "note": ""})
    client.post(url, {"outcome": "maybe", "note": "x"})
    request.refresh_from_db()
    assert request.is_open


@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("teacher", 200), ("ta", 200),
                                             ("bob", 404), ("outsider", 404)])
def test_a_thread_is_for_its_student_and_the_course_staff(client, world, who, status):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    client.force_login(getattr(world, who))
    url = reverse("regrade_request", args=[request.pk])
    assert client.get(url).status_code == status
    client.post(url, {"body": "hello"})
    assert RequestMessage.objects.filter(body="hello").exists() == (status == 200)


@pytest.mark.parametrize("who", ["alice", "bob", "outsider"])
def test_only_staff_resolve_a_request(client, world, who):
    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    client.force_login(getattr(world, who))
    response = client.post(reverse("regrade_request_resolve", args=[request.pk]),
                           {"outcome": "accepted", "note": "ok"})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.is_open


@pytest.mark.parametrize("who", ["bob", "teacher", "outsider"])
def test_nobody_opens_a_request_on_someone_elses_submission(client, world, who):
    submission = graded(world, world.alice)
    client.force_login(getattr(world, who))
    assert open_request(client, submission).status_code == 404
    assert not RegradeRequest.objects.exists()


def test_the_repair_is_in_no_thread_and_no_request_page(client, world):
    submission = graded(world, world.alice)
    feedback(submission)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    pages = [reverse("regrade_request", args=[request.pk]),
             reverse("submission_detail", args=[submission.pk])]
    for who in (world.alice, world.teacher):
        client.force_login(who)
        assert all("SECRET_REPAIR" not in client.get(u).content.decode() for u in pages)
    queue = client.get(reverse("course_queue", args=[world.course.pk])).content.decode()
    assert "SECRET_REPAIR" not in queue


def test_a_regrade_keeps_the_request_on_its_test(client, world):
    """Results are replaced when a submission is regraded: the request still finds its test."""
    from grader.grading.models import TestResult

    submission = graded(world, world.alice)
    client.force_login(world.alice)
    open_request(client, submission)
    request = RegradeRequest.objects.get()
    old = TestResult.objects.get(submission=submission, position=1)
    old.delete()
    TestResult.objects.create(submission=submission, position=1, name="test_negative",
                              kind="pytest", score=1, max_score=1, verdict="passed",
                              visibility="visible")
    client.force_login(world.teacher)
    page = client.get(reverse("regrade_request", args=[request.pk])).content.decode()
    assert "test_negative" in page and "Passed" in page
