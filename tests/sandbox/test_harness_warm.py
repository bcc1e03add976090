"""A warm trusted run serves one package's submissions one after another, and nothing of one
submission reaches the next (``sandbox/harness/warm.py``, ``agent/warm.py``).

Each submission's tests are a job: a process forked from the zygote, which is then killed with
everything it started, and the sandbox's writable folders are put back as they were. These tests
grade submissions in a row through one warm run and check that each one gets what a trusted run
of its own gives it: its own verdicts, no file or student source left by the one before,
and a fresh trusted run when the warm one is gone.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from sandbox.backends.bwrap import BubblewrapBackend
from sandbox.harness import run_pytest_file, warm
from sandbox.types import Limits, RunResult, RunSpec, SandboxError, Verdict

pytestmark = pytest.mark.sandbox

RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"

TESTS = '''
import os
from pathlib import Path
import solution
from solution import add

def test_adds():
    assert add(1, 2) == 3

def test_nothing_left_behind():
    # What an earlier submission's job left would be here.
    assert sorted(p for p in os.listdir("/tmp") if not p.startswith(("pycache-", "pytest-of")))\
        == []
    assert not Path("/work/written.txt").exists()
    assert not Path("/dev/shm/shared").exists()
    Path("/tmp/left.txt").write_text("x")
    Path("/work/written.txt").write_text("x")
    Path("/dev/shm/shared").write_text("x")
    os.makedirs("/tmp/locked/inner")
    os.chmod("/tmp/locked", 0o500)

def test_source_is_this_submissions():
    text = Path(solution.__file__).read_text()
    assert ("a + b" in text) == (add(1, 2) == 3)
'''


class Counting(BubblewrapBackend):
    """The real backend, counting its trusted runs."""

    trusted = 0

    def run(self, spec: RunSpec) -> RunResult:
        if "trusted" in spec.argv[-1]:
            self.trusted += 1
        return super().run(spec)


@pytest.fixture
def counting(backend) -> Counting:  # the session's backend fixture: bubblewrap works here
    try:
        fresh = Counting()
    except SandboxError as exc:
        pytest.skip(f"bubblewrap cannot run here: {exc}")
    yield fresh
    warm.close_all()


def _package(tmp_path: Path) -> Path:
    folder = tmp_path / "pkg" / "tests"
    folder.mkdir(parents=True)
    (folder / "test_it.py").write_text(f"# {tmp_path}\n{TESTS}")
    return folder


def _grade(backend, tmp_path: Path, folder: Path, source: str, n: int) -> dict[str, Verdict]:
    sub = tmp_path / f"sub-{n}"
    sub.mkdir()
    (sub / "solution.py").write_text(source)
    results = run_pytest_file(backend, package_tests_dir=folder, test_file="tests/test_it.py",
                              submission_dir=sub, module_name="solution",
                              limits=Limits(wall_seconds=5))
    return {r.name: r.verdict for r in results}


def _expected(source: str) -> dict[str, Verdict]:
    right = Verdict.PASSED if source == RIGHT else Verdict.FAILED
    return {"test_adds": right, "test_nothing_left_behind": Verdict.PASSED,
            "test_source_is_this_submissions": Verdict.PASSED}


def test_submissions_in_a_row_share_one_warm_run_and_nothing_else(counting, tmp_path):
    folder = _package(tmp_path)
    sources = [RIGHT, WRONG, WRONG, RIGHT, RIGHT]
    for n, source in enumerate(sources):
        assert _grade(counting, tmp_path, folder, source, n) == _expected(source), n
    # One run collected the tests, one warm run served all five submissions.
    assert counting.trusted == 2


def test_without_warm_runs_each_submission_has_a_trusted_run(counting, tmp_path, monkeypatch):
    monkeypatch.setattr(warm, "ENABLED", False)
    folder = _package(tmp_path)
    for n, source in enumerate([RIGHT, WRONG, RIGHT]):
        assert _grade(counting, tmp_path, folder, source, n) == _expected(source)
    assert counting.trusted == 1 + 3


def test_a_warm_run_that_is_gone_gives_way_to_a_fresh_one(counting, tmp_path):
    folder = _package(tmp_path)
    assert _grade(counting, tmp_path, folder, RIGHT, 0) == _expected(RIGHT)
    (found,) = [w for w in warm._WARM.values() if w.backend is counting]
    found.ours.shutdown(socket.SHUT_RDWR)  # its zygote sees EOF and ends, as if it had died
    assert _grade(counting, tmp_path, folder, WRONG, 1) == _expected(WRONG)
    deadline = time.monotonic() + 10
    while not found.dead and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found.dead
    assert _grade(counting, tmp_path, folder, RIGHT, 2) == _expected(RIGHT)
    assert [w for w in warm._WARM.values() if w.backend is counting] != [found]


def test_a_job_that_outlives_its_time_is_killed_and_the_next_one_is_served(counting, tmp_path):
    folder = _package(tmp_path)
    assert _grade(counting, tmp_path, folder, RIGHT, 0) == _expected(RIGHT)
    (found,) = [w for w in warm._WARM.values() if w.backend is counting]
    found.busy = True
    run = found.start(["tests/test_it.py::test_adds"], 0.5, Limits(wall_seconds=0.5))
    message = run.recv()  # the job asks for a student process that never comes
    assert message is not None and message["op"] == "start"
    time.sleep(1.0)  # past the job's wall: the zygote kills it
    outcome = run.finish()
    assert outcome.verdict == Verdict.TIMEOUT
    assert _grade(counting, tmp_path, folder, WRONG, 1) == _expected(WRONG)


def test_on_both_backends_one_warm_run_serves_the_submissions_in_a_row(any_backend, tmp_path):
    """On Docker the container's own processes (docker-init, the idle ``sleep``: root's) are not
    a job's: the zygote cannot signal them and does not wait for them to die, so its warm run
    serves the next submission instead of being dropped after each one."""
    folder = _package(tmp_path)
    for n, source in enumerate([RIGHT, WRONG, RIGHT]):
        assert _grade(any_backend, tmp_path, folder, source, n) == _expected(source), n
        mine = [w for w in warm._WARM.values() if w.backend == any_backend]
        assert [w.jobs for w in mine] == [n + 1], n


def test_an_idle_warm_run_is_closed_without_another_submission_coming(counting, tmp_path):
    folder = _package(tmp_path)
    assert _grade(counting, tmp_path, folder, RIGHT, 0) == _expected(RIGHT)
    (found,) = [w for w in warm._WARM.values() if w.backend is counting]
    assert warm.close_idle(time.monotonic()) == 0  # just used: kept
    assert warm.close_idle(time.monotonic() + warm.IDLE_SECONDS + 1) == 1
    assert found.gone.wait(10) and not found.root.exists()
    assert found not in warm._WARM.values()
    assert warm._REAPER is not None and warm._REAPER.is_alive()  # what calls close_idle
