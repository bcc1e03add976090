"""docker-compose.yml: what the production layout promises its processes."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_grader_container_has_an_init_that_reaps_orphans():
    """A worker process killed mid-grade leaves its sandbox's processes to the container's pid 1;
    celery or gunicorn as pid 1 would keep their zombies, which fill a sandbox slot's process
    limit until its runs cannot start."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    ours = {name: s for name, s in services.items() if s.get("image") == "grader-app"}
    assert {"web", "worker"} <= set(ours)
    assert {name: s.get("init") for name, s in ours.items()} == dict.fromkeys(ours, True)
