"""The sandbox and the feedback core import neither Django, Celery nor the Django project
(``grader``): the GPU worker image and the bench need no web stack. Checked in a fresh
interpreter over every module of both packages, so a new module is covered without a line here."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from tests.conftest import ROOT

PACKAGES = ("sandbox", "feedback")


def _modules() -> list[str]:
    names = list(PACKAGES)
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            names.append(info.name)
    return sorted(set(names))


def test_the_core_packages_have_their_modules():
    modules = _modules()
    assert "feedback.pipeline" in modules and "sandbox.grade" in modules
    assert len(modules) > 40


def test_importing_the_sandbox_and_the_feedback_core_loads_no_django_celery_or_grader():
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('django', 'celery', 'kombu', 'grader'))\n"
        "print(' '.join(bad[:5]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}, check=True)
    assert out.stdout.strip() == ""
