"""Outbound webhooks against a real HTTP server in a thread: success, retries with backoff,
timeouts, dead-letter and redelivery, and the signature the receiver checks."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from grader.celery import app as celery_app
from grader.grading.services import submission_run_graded_hooks
from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.lms.signing import verify
from grader.lms.webhooks import backoff_seconds, webhook_delivery_attempt

pytestmark = pytest.mark.django_db
SECRET = "outbound-secret"
HOOK = "grader.lms.webhooks.submission_graded_notify"


class Receiver:
    """An LMS endpoint that answers from a script: a status code, or "sleep" (a timeout)."""

    def __init__(self) -> None:
        self.script: list[int | str] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                action = receiver.script.pop(0) if receiver.script else 200
                if action == "sleep":
                    time.sleep(1.5)
                    action = 200
                self.send_response(int(action))
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/grades"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def eager(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    settings.LMS_WEBHOOK_MAX_ATTEMPTS = 3
    settings.LMS_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.LMS_WEBHOOK_BACKOFF_SECONDS = 0.01
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # retries run inline, one after another
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def integration(world, receiver):
    return CourseIntegration.objects.create(
        course=world.course, secret=SECRET, callback_url=receiver.url
    )


@pytest.fixture(autouse=True)
def only_our_hook(settings):
    # Other apps' hooks (LLM feedback) are not under test here; ours must be in the setting.
    assert HOOK in settings.GRADED_HOOKS
    settings.GRADED_HOOKS = [HOOK]


def notify(graded, capture):
    """What the grading worker does after storing results: run the GRADED_HOOKS."""
    with capture(execute=True):
        submission_run_graded_hooks(submission_id=graded.pk)
    return WebhookDelivery.objects.get(submission=graded)


def attempt_codes(delivery):
    return [a.status_code for a in delivery.log.all()]


def test_graded_submission_is_posted_signed_with_student_visible_results(
    receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and attempt_codes(delivery) == [200]
    [(headers, body)] = receiver.requests
    verify(headers["X-Grader-Signature"], secret=SECRET, body=body, tolerance=300)
    assert headers["X-Grader-Event"] == "submission.graded"
    data = json.loads(body)
    assert data["delivery_id"] == delivery.pk
    results = data["results"]
    assert results["submission_id"] == graded.pk and results["student"]["username"] == "alice"
    assert (results["score"], results["max_score"]) == (0, 3)
    assert [t["name"] for t in results["tests"]] == ["visible one"]
    assert results["hidden_tests"]["count"] == 1
    assert b"SECRET" not in body


def test_server_errors_are_retried_until_success(
    receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    receiver.script = [500, 503]
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert attempt_codes(delivery) == [500, 503, 200]
    assert len(receiver.requests) == 3


def test_a_second_copy_of_a_message_after_a_failed_try_posts_nothing(
    receiver, integration, graded, settings, django_capture_on_commit_callbacks
):
    """The broker delivered one message twice (or the sweeper re-sent one that was only late):
    the copy that runs after the failed try finds the next try not due and does nothing, so
    the delivery keeps one retry chain at its back-off, and its tries are not used up early."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.LMS_WEBHOOK_BACKOFF_SECONDS = 60
    settings.GRADED_HOOKS = []  # the delivery is made by hand below, tried by hand
    from grader.lms.webhooks import submission_graded_notify

    submission_graded_notify(graded.pk)
    delivery = WebhookDelivery.objects.get(submission=graded)
    receiver.script = [503]
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is not None  # retry later
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # the copy: not due
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("pending", 1, 1)
    from django.utils import timezone

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # the countdown passed
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and attempt_codes(delivery) == [503, 200]


def test_a_timeout_is_logged_and_retried(
    receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    receiver.script = ["sleep"]
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    first, second = delivery.log.all()
    assert first.status_code is None and "timed out" in first.error.lower()
    assert first.duration_ms >= 400
    assert second.status_code == 200 and delivery.status == "delivered"


def test_after_the_last_try_the_delivery_is_dead(
    receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    receiver.script = [500, 502, 503, 200]
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "dead" and delivery.attempts == 3
    assert attempt_codes(delivery) == [500, 502, 503]
    # A duplicated broker message finds nothing to do.
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 3


def test_a_refused_connection_is_an_error_and_dead_after_the_last_try(
    world, graded, eager, django_capture_on_commit_callbacks
):
    CourseIntegration.objects.create(
        course=world.course, secret=SECRET, callback_url="http://127.0.0.1:9/closed"
    )
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "dead"
    assert [a.status_code for a in delivery.log.all()] == [None, None, None]
    assert all(a.error for a in delivery.log.all())


def test_a_client_error_is_not_retried(
    receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    receiver.script = [400]
    delivery = notify(graded, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "dead" and attempt_codes(delivery) == [400]


def test_teacher_redelivers_a_dead_delivery_from_the_page(
    client, world, receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    receiver.script = [500, 500, 500]
    dead = notify(graded, django_capture_on_commit_callbacks)
    client.force_login(world.teacher)
    page = client.get(f"/lms/courses/{world.course.code}/deliveries/")
    assert page.status_code == 200 and b"Redeliver" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/lms/deliveries/{dead.pk}/redeliver/")
    assert response.status_code == 302
    again = WebhookDelivery.objects.get(redelivery_of=dead)
    assert again.status == "delivered" and attempt_codes(again) == [200]
    assert json.loads(receiver.requests[-1][1])["results"] == dead.payload["results"]
    dead.refresh_from_db()
    assert dead.status == "dead"  # the old log stays as it was


def test_staff_redeliver_through_the_api_students_cannot(
    client, world, receiver, integration, graded, eager, django_capture_on_commit_callbacks
):
    from grader.lms.services import api_token_create

    receiver.script = [400]
    dead = notify(graded, django_capture_on_commit_callbacks)
    path = f"/api/webhook-deliveries/{dead.pk}/redeliver"
    alice = {"Authorization": f"Bearer {api_token_create(user=world.alice)}"}
    ta = {"Authorization": f"Bearer {api_token_create(user=world.ta)}"}
    assert client.post(path, headers=alice).status_code == 404
    client.force_login(world.alice)
    assert client.post(f"/lms/deliveries/{dead.pk}/redeliver/").status_code == 404
    assert client.get(f"/lms/courses/{world.course.code}/deliveries/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, headers=ta)
    assert response.status_code == 202
    assert WebhookDelivery.objects.get(pk=response.json()["id"]).status == "delivered"


def test_no_callback_url_means_no_delivery(world, graded, django_capture_on_commit_callbacks):
    CourseIntegration.objects.create(course=world.course, secret=SECRET, callback_url="")
    with django_capture_on_commit_callbacks(execute=True):
        submission_run_graded_hooks(submission_id=graded.pk)
    assert not WebhookDelivery.objects.exists()


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.LMS_WEBHOOK_BACKOFF_SECONDS = 10
    settings.LMS_WEBHOOK_BACKOFF_MAX_SECONDS = 100
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        delays = {backoff_seconds(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not lockstep
