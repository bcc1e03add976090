"""The REST API for each role: student, TA, teacher, outsider, anonymous and bad tokens."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command

from grader.lms.models import ApiToken
from grader.lms.services import api_token_create
from grader.submissions.models import Submission
from tests.conftest import example_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, world):
    tokens = {name: api_token_create(user=getattr(world, name))
              for name in ("teacher", "ta", "alice", "bob", "outsider")}

    def call(method, path, user=None, token=None, **kwargs):
        headers = {}
        if user or token:
            headers["Authorization"] = f"Bearer {token or tokens[user]}"
        return getattr(client, method)("/api" + path, headers=headers, **kwargs)

    return call


def submit(api, world, user, name="solution.py", content=None, assignment=None):
    if content is None:
        content = example_submission("add_two_numbers", "correct.py")
    upload = io.BytesIO(content)
    upload.name = name
    pk = assignment or world.assignment.pk
    return api("post", f"/assignments/{pk}/submissions", user, data={"files": [upload]})


def test_anonymous_and_bad_tokens_get_401(api, world):
    assert api("get", "/assignments").status_code == 401
    assert api("get", "/assignments", token="grd_not-a-token").status_code == 401
    world.alice.is_active = False
    world.alice.save()
    assert api("get", "/assignments", "alice").status_code == 401


def test_tokens_are_stored_only_as_hashes(world):
    key = api_token_create(user=world.alice)
    row = ApiToken.objects.get(user=world.alice)
    assert row.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.prefix, row.key_sha256, row.name}


def test_create_api_token_command_prints_a_working_token(client, world):
    out = io.StringIO()
    call_command("create_api_token", "bob", "--name", "laptop", stdout=out)
    key = out.getvalue().strip()
    response = client.get("/api/assignments", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert ApiToken.objects.get(user=world.bob).last_used_at is not None


def test_student_lists_assignments_of_their_courses_only(api, world):
    rows = api("get", "/assignments", "alice").json()
    assert [(r["id"], r["course"], r["role"]) for r in rows] == [
        (world.assignment.pk, "CS101", "student")
    ]
    assert api("get", "/assignments", "outsider").json() == []
    assert api("get", "/assignments", "ta").json()[0]["role"] == "ta"


def test_student_submits_and_gets_202_with_urls(api, world):
    response = submit(api, world, "alice")
    assert response.status_code == 202, response.content
    body = response.json()
    submission = Submission.objects.get(pk=body["id"])
    assert submission.student == world.alice and submission.status == "queued"
    assert body["url"].endswith(f"/submissions/{submission.pk}/")
    assert body["status_url"].endswith(f"/api/submissions/{submission.pk}")


def test_outsider_and_unknown_assignment_get_the_same_404(api, world):
    outsider = submit(api, world, "outsider")
    missing = submit(api, world, "alice", assignment=999_999)
    assert outsider.status_code == missing.status_code == 404
    assert outsider.json() == missing.json() == {
        "code": "not_found", "detail": "Assignment not found."
    }
    assert not Submission.objects.exists()


def test_bad_upload_is_400_with_the_intake_message(api, world):
    response = submit(api, world, "alice", content=b"\xff\xfe not utf-8 \x00")
    assert response.status_code == 400
    assert "is not a text file" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_missing_files_is_a_4xx(api, world):
    response = api("post", f"/assignments/{world.assignment.pk}/submissions", "alice", data={})
    assert 400 <= response.status_code < 500


def test_no_attempts_left_is_409(api, world):
    for _ in range(world.assignment.max_attempts):
        assert submit(api, world, "alice").status_code == 202
    response = submit(api, world, "alice")
    assert response.status_code == 409
    assert "attempts" in response.json()["detail"]
    assert response.json()["code"] == "no_attempts_left"


def test_service_errors_map_to_status_code_and_retry_after(api, world):
    """The API's one mapping (grader.api.api.service_error): a cooldown is 429 with the
    seconds to wait in Retry-After, and every error body has a code and a detail."""
    world.assignment.cooldown_minutes = 5
    world.assignment.max_attempts = None
    world.assignment.save()
    assert submit(api, world, "alice").status_code == 202
    response = submit(api, world, "alice")
    assert response.status_code == 429
    assert response.json()["code"] == "cooldown"
    assert "Please wait" in response.json()["detail"]
    assert 290 <= int(response["Retry-After"]) <= 300
    refused = submit(api, world, "bob", content=b"\xff\xfe not utf-8 \x00")
    assert refused.status_code == 400 and refused.json()["code"] == "upload_refused"
    assert "Retry-After" not in refused
    missing = api("get", "/submissions/999999", "alice")
    assert missing.json() == {"code": "not_found", "detail": "Submission not found."}


def test_student_results_hide_hidden_tests(api, graded):
    body = api("get", f"/submissions/{graded.pk}", "alice").json()
    assert body["status"] == "graded" and body["score"] == 0 and body["max_score"] == 3
    assert [t["name"] for t in body["tests"]] == ["visible one"]
    assert body["hidden_tests"] == {"count": 1, "score": 0, "max_score": 2}
    assert "SECRET" not in str(body) and "error" not in body


@pytest.mark.parametrize("role", ["teacher", "ta"])
def test_staff_results_show_every_test(api, graded, role):
    body = api("get", f"/submissions/{graded.pk}", role).json()
    assert [t["name"] for t in body["tests"]] == ["visible one", "SECRET-hidden-name"]
    assert body["tests"][1]["output"] == "SECRET-hidden-output"


@pytest.mark.parametrize("role", ["bob", "outsider"])
def test_other_students_get_404_for_a_submission(api, graded, role):
    response = api("get", f"/submissions/{graded.pk}", role)
    assert response.status_code == 404
    assert api("get", "/submissions/999999", role).json() == response.json()


def test_staff_list_submissions_students_cannot(api, world, graded):
    path = f"/assignments/{world.assignment.pk}/submissions"
    rows = api("get", path, "ta").json()
    assert [(r["id"], r["student"]) for r in rows] == [(graded.pk, "alice")]
    assert api("get", path, "alice").status_code == 403
    assert api("get", path, "outsider").status_code == 404


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/assignments/{assignment_id}/submissions" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert client.get("/api/docs").status_code == 200


def test_feedback_reaches_a_student_only_once_released(api, graded):
    from grader.feedback.models import Feedback

    feedback = Feedback.objects.create(
        submission=graded, status=Feedback.Status.PENDING_REVIEW, line=2,
        category="wrong_operator", explanation="SECRET-unreviewed", hint="h", agreement=0.5,
        samples_count=4,
    )
    url = f"/submissions/{graded.pk}/feedback"
    assert api("get", url, "alice").status_code == 404  # not released yet: as if none
    staff = api("get", url, "teacher").json()
    assert staff["status"] == "pending_review" and staff["explanation"] == "SECRET-unreviewed"
    Feedback.objects.filter(pk=feedback.pk).update(status=Feedback.Status.RELEASED)
    body = api("get", url, "alice").json()
    assert (body["line"], body["category"], body["samples"]) == (2, "wrong_operator", 4)
    assert "status" not in body
    for outsider in ("bob", "outsider"):
        assert api("get", url, outsider).status_code == 404
