"""scripts/build-sandbox-image.sh on a brand-new machine: no var/, no base image, no pip module.

The engine, debootstrap and pip are stand-ins on PATH that record their calls, so this checks the
script's own steps in seconds; CI builds the real image (scripts/ci-docker.sh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STUBS = {
    # No image exists yet: `docker image inspect` fails, everything else succeeds.
    "docker": """#!/bin/bash
echo "docker $*" >> "$CALLS"
case "$1 $2" in "image inspect") exit 1;; esac
[ "$1" = import ] && cat >/dev/null
exit 0
""",
    "debootstrap": """#!/bin/bash
echo "debootstrap $*" >> "$CALLS"
target=${@: -2:1}
mkdir -p "$target/usr/bin" && touch "$target/usr/bin/javac" && chmod +x "$target/usr/bin/javac"
echo "I: Base system installed successfully."
""",
    # `python -m pip install ... --target DIR PIN`: make DIR, as pip would.
    "fake-python": """#!/bin/bash
echo "python $*" >> "$CALLS"
while [ $# -gt 0 ]; do [ "$1" = --target ] && mkdir -p "$2"; shift; done
""",
}


def test_the_image_build_runs_on_a_checkout_with_no_var_folder_and_no_base_image(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "build-sandbox-image.sh", checkout / "scripts")
    shutil.copy(ROOT / "pyproject.toml", checkout)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "PYTHON": str(stubs / "fake-python"),
    }
    proc = subprocess.run(
        ["bash", "scripts/build-sandbox-image.sh"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "built grader-sandbox:latest"
    assert "Base system installed" in (checkout / "var/build/debootstrap.log").read_text()
    steps = [line.split()[:2] for line in calls.read_text().splitlines()]
    assert steps == [
        ["docker", "image"],
        ["debootstrap", "--variant=minbase"],
        ["docker", "import"],
        ["python", "-m"],
        ["docker", "build"],
    ]
    assert "pytest==" in calls.read_text()  # the same pytest pin as pyproject.toml
