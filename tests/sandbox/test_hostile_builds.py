"""Hostile submissions against the build step: a build never runs the student's code.

A failed build uses no attempt, so code that runs in it would run for free, as often as the
student likes. One submission folder per attack in ``corpus/builds/``: each builds (or fails to)
as a harmless file would, runs none of its own code (no marker, no "PWNED" in the compiler's
output, no special file left) and finishes well inside the build's limits.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from sandbox import fstree
from sandbox.languages import JAVAC_LIMITS, JVM_FLAGS, JVM_NEEDS, get_language
from sandbox.types import Limits, RunSpec, Verdict
from tests.sandbox.conftest import RecordingBackend, RecordingDockerBackend, groups_left

pytestmark = pytest.mark.sandbox

BUILDS = Path(__file__).with_name("corpus") / "builds"
LIMITS = Limits(cpu_seconds=1, wall_seconds=2, memory_mb=128, max_processes=16,
                output_bytes=64_000, file_size_mb=4, tmp_size_mb=8)
# folder -> (language, main file, builds?, text the build output must hold)
ATTACKS = {
    "python_traceback_shadow": ("python", "main.py", True, ""),
    "python_linecache_shadow": ("python", "main.py", False, "SyntaxError"),
    "java_annotation_processor": ("java", "Main.java", True, ""),
    "c_include_flood": ("c", "main.c", False, "The build was stopped"),
}


def _submission(name: str, backend: RecordingBackend | RecordingDockerBackend,
                workdir: Path) -> None:
    fstree.copy_tree(BUILDS / name, workdir)
    evil = workdir / "Evil.java"
    if evil.exists():  # the processor ships compiled, as a student's zip would carry it
        jvm = ["-J-Xmx256m", *(f"-J{flag}" for flag in JVM_FLAGS)]
        compiled = backend.run(RunSpec(
            argv=["javac", *jvm, "-proc:none", "-d", "/work", "Evil.java"], workdir=workdir,
            limits=JAVAC_LIMITS, needs=JVM_NEEDS))
        assert compiled.verdict == Verdict.PASSED, compiled.stderr
        evil.unlink()
        assert (workdir / "Evil.class").is_file()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_build_never_runs_the_submissions_code(any_backend, workdir, attack):
    backend = any_backend
    language, main, builds, says = ATTACKS[attack]
    _submission(attack, backend, workdir)
    lang = get_language(language)
    started = time.monotonic()
    build = lang.build(backend, workdir, main, LIMITS)
    elapsed = time.monotonic() - started
    assert build.ok is builds, build.output
    assert says in build.output
    assert "PWNED" not in build.output
    assert not (workdir / "BUILD_PWNED").exists()
    assert not (workdir / "left_by_the_build").exists()
    assert elapsed < lang.build_limits(LIMITS).wall_seconds
    assert groups_left(backend) == []
    if builds:  # and the program the build made is the harmless one
        run = backend.run(lang.run_spec(main, LIMITS, workdir=workdir, discard_workdir=False))
        assert (run.verdict, run.stdout) == (Verdict.PASSED, b"hello\n"), run.stderr


def test_the_python_check_imports_nothing_from_the_submission(backend, workdir):
    # The interpreter's own start-up imports (encodings, site) are the other way in.
    (workdir / "main.py").write_text("print('hello')\n")
    for module in ("encodings", "site", "sitecustomize", "io", "abc", "codecs", "traceback"):
        (workdir / f"{module}.py").write_text(
            "open('/work/BUILD_PWNED', 'w').write('x')\nprint('PWNED')\n"
        )
    build = get_language("python").build(backend, workdir, "main.py", LIMITS)
    assert build.ok, build.output
    assert not (workdir / "BUILD_PWNED").exists()


def test_the_build_flood_is_cut_at_the_builds_output_cap(backend, workdir):
    shutil.copy(BUILDS / "c_include_flood" / "main.c", workdir / "main.c")
    build = get_language("c").build(backend, workdir, "main.c", LIMITS)
    assert not build.ok
    assert "printed more than" in build.output
    assert len(build.output) < 25_000
