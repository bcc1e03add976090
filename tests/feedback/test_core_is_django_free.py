"""The sandbox and the feedback core import neither Django nor Celery (the GPU worker image
and the bench need no web stack), checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CORE = [
    "sandbox", "sandbox.grade", "sandbox.evidence", "sandbox.harness",
    "grader.feedback.engines", "grader.feedback.pipeline", "grader.feedback.prompt",
    "grader.feedback.repair", "grader.feedback.sbfl", "grader.feedback.validation",
    "grader.feedback.verdict", "grader.feedback.voting", "grader.feedback.evaluation",
]


def test_importing_the_sandbox_and_the_feedback_core_loads_no_django_or_celery():
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'kombu'))\n"
        "print(' '.join(bad[:5]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}, check=True)
    assert out.stdout.strip() == ""
