"""Students never see an unpublished assignment: not in the API's list, not by id through the
API (the same 404 as one that does not exist), not on the web pages. Staff still see drafts."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from grader.courses.models import Assignment
from grader.lms.services import api_token_create
from grader.submissions.models import Submission
from tests.conftest import example_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(world):
    Assignment.objects.filter(pk=world.assignment.pk).update(is_published=False)
    world.assignment.refresh_from_db()
    return world.assignment


def api_get(client, user, path):
    token = api_token_create(user=user)
    return client.get("/api" + path, headers={"Authorization": f"Bearer {token}"})


def api_submit(client, user, assignment_id):
    upload = io.BytesIO(example_submission("add_two_numbers", "correct.py"))
    upload.name = "solution.py"
    return client.post(
        f"/api/assignments/{assignment_id}/submissions",
        data={"files": [upload]},
        headers={"Authorization": f"Bearer {api_token_create(user=user)}"},
    )


def test_the_api_lists_no_unpublished_assignment_to_a_student(client, world, draft):
    published = Assignment.objects.create(
        course=world.course, title="Published one", language="python",
        submission_filename="solution.py", package_path=draft.package_path,
    )  # fmt: skip
    ids = [row["id"] for row in api_get(client, world.alice, "/assignments").json()]
    assert ids == [published.pk]
    for staff in (world.teacher, world.ta):
        rows = api_get(client, staff, "/assignments").json()
        assert sorted(r["id"] for r in rows) == sorted([draft.pk, published.pk])


def test_a_student_addressing_an_unpublished_assignment_gets_the_404_of_a_missing_one(
    client, world, draft
):
    missing = api_submit(client, world.alice, 999_999)
    refused = api_submit(client, world.alice, draft.pk)
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json() == {
        "code": "not_found", "detail": "Assignment not found."
    }
    listing = api_get(client, world.alice, f"/assignments/{draft.pk}/submissions")
    assert listing.status_code == 404
    assert not Submission.objects.exists()


def test_staff_still_submit_to_and_list_an_unpublished_assignment(client, world, draft):
    assert api_submit(client, world.teacher, draft.pk).status_code == 202
    rows = api_get(client, world.ta, f"/assignments/{draft.pk}/submissions").json()
    assert [r["student"] for r in rows] == ["teacher"]


def test_web_pages_show_a_student_no_unpublished_assignment(client, world, draft):
    client.force_login(world.alice)
    for url in (reverse("home"), reverse("course_detail", args=[world.course.pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert draft.title not in response.content.decode()
    assert client.get(reverse("assignment_detail", args=[draft.pk])).status_code == 404
    client.force_login(world.ta)
    page = client.get(reverse("course_detail", args=[world.course.pk]))
    assert draft.title in page.content.decode()
