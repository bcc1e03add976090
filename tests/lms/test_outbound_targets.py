"""Outbound webhooks are not a way into the grader's network: non-public targets are refused
(unless WEBHOOK_ALLOW_PRIVATE_TARGETS), redirects are never followed, and staff see the status
code, never the receiver's response body."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from grader.lib import outbound
from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.lms.webhooks import webhook_delivery_attempt, webhook_delivery_create

pytestmark = pytest.mark.django_db


class Receiver:
    """A loopback HTTP server that answers every POST with ``status`` and ``headers``."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None,
                 body: bytes = b"ok") -> None:  # fmt: skip
        self.requests: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(dict(self.headers))
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def hooks(settings):
    settings.LMS_WEBHOOK_MAX_ATTEMPTS = 3
    settings.LMS_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    return settings


def deliver(world, url: str) -> WebhookDelivery:
    """One delivery to ``url``, attempted until done (no broker; each retry made due at once
    instead of waiting out its back-off)."""
    CourseIntegration.objects.update_or_create(
        course=world.course, defaults={"secret": "s", "callback_url": url}
    )
    delivery = webhook_delivery_create(
        course=world.course, submission=None, event="submission.graded", url=url,
        payload={"event": "submission.graded"},
    )  # fmt: skip
    while webhook_delivery_attempt(delivery_id=delivery.pk) is not None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery.refresh_from_db()
    return delivery


def test_a_loopback_target_is_refused_at_once_and_nothing_is_sent(world, hooks, receivers):
    receiver = receivers()
    delivery = deliver(world, receiver.url)
    [attempt] = delivery.log.all()
    assert delivery.status == "dead" and attempt.status_code is None
    assert "refused" in attempt.error and "127.0.0.1" in attempt.error
    assert "loopback" in attempt.error and "WEBHOOK_ALLOW_PRIVATE_TARGETS" in attempt.error
    assert receiver.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_too(world, hooks, receivers):
    receiver = receivers()
    delivery = deliver(world, f"http://localhost:{receiver.port}/hook")
    assert delivery.status == "dead" and "refused" in delivery.log.get().error
    assert receiver.requests == []


def test_the_operator_setting_allows_a_private_target(world, hooks, receivers):
    hooks.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = receivers()
    delivery = deliver(world, receiver.url)
    assert delivery.status == "delivered" and len(receiver.requests) == 1


def test_a_redirect_is_not_followed_even_where_private_targets_are_allowed(
    world, hooks, receivers
):
    hooks.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    internal = receivers()
    bouncer = receivers(status=307, headers={"Location": internal.url})
    delivery = deliver(world, bouncer.url)
    [attempt] = delivery.log.all()
    assert delivery.status == "dead"
    assert attempt.status_code == 307 and attempt.error == "redirects are not followed"
    assert len(bouncer.requests) == 1 and internal.requests == []


def test_staff_see_the_status_code_not_the_receivers_response_body(
    client, world, hooks, receivers
):
    hooks.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = receivers(status=500, body=b"SECRET-BODY from an internal service: root:x:0:0")
    delivery = deliver(world, receiver.url)
    attempts = list(delivery.log.all())
    assert [a.status_code for a in attempts] == [500, 500, 500]  # retried, then dead
    assert all(a.error == "Internal Server Error" for a in attempts)
    client.force_login(world.ta)
    page = client.get(f"/lms/courses/{world.course.code}/deliveries/").content.decode()
    assert "HTTP 500" in page and "SECRET-BODY" not in page


def test_only_http_and_https_urls_are_posted_to(world, hooks):
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:6379/_INFO"):
        delivery = deliver(world, url)
        assert delivery.status == "dead" and delivery.attempts == 1
        assert "is not an http(s) URL" in delivery.log.get().error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a9fe:a9fe",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused_also_inside_ipv6(address):
    assert outbound.refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert outbound.refusal_reason(ipaddress.ip_address(address)) is None


def test_one_private_address_among_public_ones_refuses_the_host(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    result = outbound.post("http://mixed.example/hook", b"{}", {}, timeout=2, allow_private=False)
    assert result.status_code is None and not result.retryable
    assert "10.0.0.7" in result.error


def test_the_socket_connects_to_the_checked_address_and_keeps_the_host_name(
    monkeypatch, receivers
):
    # The name is resolved once, by the check: the connection uses that answer, so a DNS server
    # cannot answer the check with a public address and the connection with a private one.
    receiver = receivers()
    lookups: list[str] = []

    def resolve(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    url = f"http://lms.example:{receiver.port}/hook"
    result = outbound.post(url, b"{}", {}, timeout=2, allow_private=True)
    assert result.status_code == 200
    assert lookups == ["lms.example"]
    assert receiver.requests[0]["Host"] == f"lms.example:{receiver.port}"
