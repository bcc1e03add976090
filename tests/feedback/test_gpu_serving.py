"""The gpu profile serves the model the standard way: `vllm serve` with a health check, and
feedback workers that are thin HTTP clients of it (checked on the compose file itself)."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_gpu_profile_runs_vllm_serve_with_a_health_check():
    vllm = compose()["services"]["vllm"]
    assert vllm["profiles"] == ["gpu"] and vllm["command"][:2] == ["vllm", "serve"]
    assert "/health" in " ".join(vllm["healthcheck"]["test"])
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_feedback_workers_call_the_server_over_http_and_have_a_sandbox():
    services = compose()["services"]
    worker = services["feedback-worker"]
    env = worker["environment"]
    assert env["FEEDBACK_ENGINE"] == "openai" and env["FEEDBACK_OPENAI_BASE_URL"].startswith(
        "http://vllm:")
    assert "feedback" in worker["command"] and "threads" in worker["command"]
    assert worker["depends_on"]["vllm"] == {"condition": "service_healthy"}
    assert "/var/run/docker.sock:/var/run/docker.sock" in worker["volumes"]  # checks repairs
    # without the gpu profile, the grading workers explain failures themselves
    assert "feedback" in " ".join(services["worker"]["command"])
