"""The inbound LMS webhook: every rejection, idempotent retries, JSON and multipart bodies."""

from __future__ import annotations

import base64
import json
import time

import pytest

from grader.lms.models import CourseIntegration, InboundSubmission
from grader.lms.signing import sign_header
from grader.submissions.models import Submission
from tests.conftest import example_submission

pytestmark = pytest.mark.django_db
SECRET = "course-secret-123"
URL = "/webhooks/lms/CS101/submissions"


@pytest.fixture
def integration(world):
    world.alice.email = "alice@example.edu"
    world.alice.save()
    return CourseIntegration.objects.create(course=world.course, secret=SECRET)


def payload(world, student=None, **extra):
    code = example_submission("add_two_numbers", "correct.py")
    data = {
        "assignment": world.assignment.pk,
        "student": student or {"email": "ALICE@example.edu"},
        "files": [{"name": "solution.py", "content_base64": base64.b64encode(code).decode()}],
        **extra,
    }
    return json.dumps(data).encode()


def post(client, body, *, key="delivery-1", secret=SECRET, timestamp=None, url=URL,
         content_type="application/json", signature=None):
    headers = {"X-Grader-Signature": signature
               or sign_header(secret, body, timestamp=timestamp, idempotency_key=key)}
    if key:
        headers["Idempotency-Key"] = key
    return client.generic("POST", url, body, content_type=content_type, headers=headers)


def test_signed_json_submission_is_accepted(client, world, integration):
    response = post(client, payload(world))
    assert response.status_code == 202, response.content
    body = response.json()
    submission = Submission.objects.get(pk=body["submission_id"])
    assert submission.student == world.alice and submission.assignment == world.assignment
    assert body["duplicate"] is False and body["url"].endswith(f"/submissions/{submission.pk}/")
    assert bytes(submission.files.get().content) == example_submission(
        "add_two_numbers", "correct.py")


def test_a_retried_delivery_returns_the_same_submission(client, world, integration):
    body = payload(world)
    first = post(client, body)
    # The LMS retries later: a fresh signature over the same body, the same idempotency key.
    second = post(client, body, timestamp=int(time.time()) + 5)
    assert first.status_code == second.status_code == 202
    assert first.json()["submission_id"] == second.json()["submission_id"]
    assert second.json()["duplicate"] is True
    assert Submission.objects.count() == 1 and InboundSubmission.objects.count() == 1


def test_a_reused_key_with_another_body_is_409(client, world, integration):
    assert post(client, payload(world)).status_code == 202
    response = post(client, payload(world, student={"username": "bob"}))
    assert response.status_code == 409
    assert Submission.objects.count() == 1


def test_a_new_key_is_a_new_attempt(client, world, integration):
    assert post(client, payload(world), key="a").json()["attempt"] == 1
    assert post(client, payload(world), key="b").json()["attempt"] == 2


def test_bad_signature_is_401(client, world, integration):
    response = post(client, payload(world), secret="wrong-secret")
    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    body = payload(world)
    tampered = post(client, body, signature=sign_header(SECRET, body + b" ",
                                                        idempotency_key="delivery-1"))
    assert tampered.status_code == 401
    assert post(client, body, signature="garbage").status_code == 401
    assert not Submission.objects.exists()


# Well outside the 300 s window: at 301 a slow second between int(time.time()) here and the
# server's clock put a future timestamp back inside it (seen once under load).
@pytest.mark.parametrize("skew", [-310, 310])
def test_stale_or_future_timestamp_is_401(client, world, integration, skew):
    response = post(client, payload(world), timestamp=int(time.time()) + skew)
    assert response.status_code == 401
    assert "300 s" in response.json()["error"]
    assert not Submission.objects.exists()


def test_unknown_or_disabled_course_is_404(client, world, integration):
    unknown = post(client, payload(world), url="/webhooks/lms/NOPE/submissions")
    integration.enabled = False
    integration.save()
    disabled = post(client, payload(world))
    assert unknown.status_code == disabled.status_code == 404
    # A course with no integration at all looks the same as one that does not exist.
    assert post(client, payload(world), url="/webhooks/lms/CS999/submissions").status_code == 404


def test_oversize_body_is_413(client, world, integration, settings):
    settings.LMS_WEBHOOK_MAX_BYTES = 1000
    response = post(client, payload(world, padding="x" * 2000))
    assert response.status_code == 413
    assert not Submission.objects.exists()


@pytest.mark.parametrize("student", [
    {"email": "nobody@example.edu"},
    {"username": "outsider"},  # exists, but not in this course
    {"username": "teacher"},  # in the course, but not a student
])
def test_unknown_student_is_422(client, world, integration, student):
    response = post(client, payload(world, student=student))
    assert response.status_code == 422
    assert not Submission.objects.exists()


def test_missing_idempotency_key_is_400(client, world, integration):
    assert post(client, payload(world), key=None).status_code == 400


def test_assignment_of_another_course_is_404(client, world, integration):
    body = json.loads(payload(world))
    body["assignment"] = 999_999
    assert post(client, json.dumps(body).encode()).status_code == 404


@pytest.mark.parametrize("body", [
    b"not json",
    b"[]",
    json.dumps({"assignment": 1, "student": {"username": "alice"}, "files": []}).encode(),
    json.dumps({"assignment": "x", "student": {"username": "alice"},
                "files": [{"name": "a.py", "content_base64": "AA=="}]}).encode(),
    json.dumps({"assignment": 1, "student": {"username": "alice"},
                "files": [{"name": "a.py", "content_base64": "@@not base64@@"}]}).encode(),
])
def test_malformed_bodies_are_400(client, world, integration, body):
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_bad_upload_is_400_with_the_intake_message(client, world, integration):
    body = json.loads(payload(world))
    body["files"] = [{"name": "solution.py", "content_base64": base64.b64encode(b"\0\0").decode()}]
    response = post(client, json.dumps(body).encode())
    assert response.status_code == 400
    assert "not a text file" in response.json()["error"]


def test_no_attempts_left_is_409(client, world, integration):
    for i in range(world.assignment.max_attempts):
        assert post(client, payload(world), key=f"k{i}").status_code == 202
    response = post(client, payload(world), key="one-too-many")
    assert response.status_code == 409
    assert "attempts" in response.json()["error"]
    assert response.json()["code"] == "no_attempts_left"


def test_a_cooldown_is_429_with_retry_after_and_the_retry_succeeds_later(client, world,
                                                                          integration):
    """The webhook's one mapping (grader.lms.views.inbound_submission): a service's typed
    error keeps its status and code; the refused delivery stores nothing, so the LMS can
    retry the same key once Retry-After has passed."""
    world.assignment.cooldown_minutes = 5
    world.assignment.save()
    assert post(client, payload(world), key="first").status_code == 202
    response = post(client, payload(world), key="second")
    assert response.status_code == 429
    assert response.json()["code"] == "cooldown" and "Please wait" in response.json()["error"]
    assert 290 <= int(response["Retry-After"]) <= 300
    assert not InboundSubmission.objects.filter(idempotency_key="second").exists()


def test_an_unpublished_assignment_is_422_for_the_lms(client, world, integration):
    world.assignment.is_published = False
    world.assignment.save()
    response = post(client, payload(world))
    assert response.status_code == 422
    assert response.json()["code"] == "forbidden"
    assert not Submission.objects.exists()


def test_multipart_submission_is_accepted(client, world, integration):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    upload = SimpleUploadedFile("solution.py", example_submission("add_two_numbers", "correct.py"))
    body = encode_multipart(BOUNDARY, {
        "assignment": str(world.assignment.pk), "student_username": "bob", "files": [upload],
    })
    response = post(client, body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 202, response.content
    assert Submission.objects.get(pk=response.json()["submission_id"]).student == world.bob


def test_get_is_not_allowed(client, integration):
    assert client.get(URL).status_code == 405


# -- replays: the Idempotency-Key is covered by the signature -----------------------------------

def test_a_captured_request_replayed_with_a_new_key_is_401_and_makes_no_submission(
    client, world, integration
):
    body = payload(world)
    captured = sign_header(SECRET, body, idempotency_key="delivery-1")
    assert post(client, body, key="delivery-1", signature=captured).status_code == 202
    for new_key in ("delivery-2", "Delivery-1", "delivery-10", "delivery-"):
        replay = post(client, body, key=new_key, signature=captured)
        assert replay.status_code == 401, new_key
        assert "does not match the Idempotency-Key and body" in replay.json()["error"]
    # Surrounding spaces are not part of a header value: the same key, the same submission.
    assert post(client, body, key=" delivery-1 ", signature=captured).json()["duplicate"] is True
    assert Submission.objects.count() == 1


def test_a_captured_request_replayed_with_its_own_key_returns_the_first_submission(
    client, world, integration
):
    body = payload(world)
    captured = sign_header(SECRET, body, idempotency_key="delivery-1")
    first = post(client, body, key="delivery-1", signature=captured)
    again = post(client, body, key="delivery-1", signature=captured)
    assert again.json()["submission_id"] == first.json()["submission_id"]
    assert again.json()["duplicate"] is True and Submission.objects.count() == 1


def test_a_v1_signature_over_the_body_alone_is_refused_with_the_v2_recipe(
    client, world, integration
):
    body = payload(world)
    response = post(client, body, signature=sign_header(SECRET, body))  # t=...,v1=...
    assert response.status_code == 401
    assert "v1 signatures do not cover the Idempotency-Key" in response.json()["error"]
    assert "v2=" in response.json()["error"]
    assert not Submission.objects.exists()


def test_the_signed_text_is_the_timestamp_the_key_a_newline_and_the_body(
    client, world, integration
):
    import hashlib
    import hmac

    # What an LMS implements from the README, without our helper.
    body, key, t = payload(world), "lms-delivery-42", int(time.time())
    sig = hmac.new(SECRET.encode(), f"{t}.{key}\n".encode() + body, hashlib.sha256).hexdigest()
    response = post(client, body, key=key, signature=f"t={t},v2={sig}")
    assert response.status_code == 202, response.content


def test_a_key_with_control_characters_is_400(client, world, integration):
    response = post(client, payload(world), key="delivery\x01")
    assert response.status_code == 400
    assert not Submission.objects.exists()
