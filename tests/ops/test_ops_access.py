"""/healthz and /metrics answer only OPS_ALLOWED_IPS (default loopback) or OPS_TOKEN, and the
docker-compose healthcheck still passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = "203.0.113.7"  # TEST-NET-3: an address that is not ours
TOKEN = "ops-token-for-tests"
pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(settings):
    settings.OPS_TOKEN = TOKEN
    settings.OPS_ALLOWED_IPS = ["127.0.0.1", "::1"]
    return settings


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_an_outside_address_without_the_token_is_refused(client, ops, path):
    response = client.get(path, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert b"OPS_TOKEN" in response.content and b"grader_" not in response.content
    spoofed = client.get(path, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert spoofed.status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get(path, REMOTE_ADDR=OUTSIDE, headers=wrong).status_code == 403
    assert client.get(path + "?token=not-the-token", REMOTE_ADDR=OUTSIDE).status_code == 403


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_the_token_opens_them_from_anywhere_as_a_header_or_a_query_parameter(client, ops, path):
    header = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get(path, REMOTE_ADDR=OUTSIDE, headers=header).status_code in (200, 503)
    assert client.get(f"{path}?token={TOKEN}", REMOTE_ADDR=OUTSIDE).status_code in (200, 503)


def test_loopback_is_allowed_by_default_over_ipv4_ipv6_and_mapped_addresses(client, ops):
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200, address


def test_without_a_token_setting_no_bearer_value_opens_them(client, ops):
    ops.OPS_TOKEN = ""
    for header in ("Bearer ", "Bearer  ", "Basic Og=="):
        response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers={"Authorization": header})
        assert response.status_code == 403
    assert client.get("/metrics?token=", REMOTE_ADDR=OUTSIDE).status_code == 403


def test_the_allow_list_takes_networks_and_an_empty_list_allows_no_address(client, ops):
    ops.OPS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    ops.OPS_ALLOWED_IPS = []
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_malformed_allow_list_stops_start_up_naming_the_variable():
    env = {**os.environ, "OPS_ALLOWED_IPS": "127.0.0.1,not-an-address"}
    proc = subprocess.run(
        [sys.executable, "-c", "import grader.settings"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "OPS_ALLOWED_IPS: 'not-an-address' is not an IP address" in proc.stderr


def web_healthcheck() -> str:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    return str(test[3])


def run_healthcheck(live_server, token: str) -> subprocess.CompletedProcess[str]:
    script = web_healthcheck().replace("http://127.0.0.1:8000", live_server.url)
    return subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "OPS_TOKEN": token},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_compose_healthcheck_passes_from_loopback_with_the_default_allow_list(
    live_server, ops
):
    ops.OPS_TOKEN = ""
    proc = run_healthcheck(live_server, token="")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.django_db(transaction=True)
def test_the_compose_healthcheck_sends_the_token_when_loopback_is_not_allowed(live_server, ops):
    ops.OPS_ALLOWED_IPS = []
    proc = run_healthcheck(live_server, token=TOKEN)
    assert proc.returncode == 0, proc.stderr
    # Refused (a wrong token): the container is reported unhealthy, not healthy.
    assert run_healthcheck(live_server, token="stale-token").returncode != 0
