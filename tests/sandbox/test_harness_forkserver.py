"""The student side's fork server: one student sandbox per test file and submission, a freshly
forked process per test, nothing carried from one test to the next, and a server the student's
code can neither stop nor signal (``sandbox/harness/agent/forkserver.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.harness import Evidence, run_pytest_file, run_pytest_plan
from sandbox.types import Backend, RunResult, RunSpec, Verdict
from tests.sandbox.harness_cases.support import FAST, passed, run_case, submission

pytestmark = pytest.mark.sandbox

BASIC = "tests/test_basic.py"


class Counting:
    """The real backend, counting the student sandboxes it starts."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.students = 0

    def run(self, spec: RunSpec) -> RunResult:
        if "forkserver" in spec.argv[-1]:
            self.students += 1
        return self.inner.run(spec)


# Every call sees the state an earlier test's process would have left: a module global, files
# in /work, /tmp and /dev/shm, a process it started. Each adds to the sum, so a test passes
# only when it started from nothing.
LEFTOVERS = """\
import os
import signal
import time

CALLS = 0
MARKERS = ("/work/marker", "/tmp/marker", "/dev/shm/marker")
GREETING = "hello"


def _others():
    mine = {1, os.getpid(), os.getppid()}
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine]


def add(a, b):
    global CALLS
    CALLS += 1
    seen = sum(os.path.exists(m) for m in MARKERS) + len(_others())
    for m in MARKERS:
        open(m, "w").close()
    if os.fork() == 0:  # a process that would outlive the test
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        os._exit(0)
    return a + b + (CALLS - 1) + seen


def divide(a, b):
    return a / b
"""


def test_one_student_sandbox_serves_the_file_with_nothing_carried_between_tests(
        backend, tmp_path):
    counting = Counting(backend)
    sub = submission(tmp_path, source=LEFTOVERS)
    results = run_case(counting, "basic", sub, BASIC)
    assert passed(results) == 6, [(r.name, r.verdict, r.output[:300]) for r in results]
    assert counting.students == 1
    assert not (sub / "marker").exists()


def test_each_submission_folder_of_a_plan_gets_its_own_student_sandbox(backend, tmp_path):
    counting = Counting(backend)
    right = submission(tmp_path / "right", case="basic", solution="basic_correct.py")
    wrong = submission(tmp_path / "wrong", case="basic", solution="basic_wrong.py")
    small = "tests/test_basic.py::test_add_small"
    big = "tests/test_basic.py::test_add_big"
    plan = [(small, right), (big, right), (big, wrong), (big, right)]
    results = run_pytest_plan(counting, package_tests_dir=_cases() / "basic" / "tests",
                              test_file=BASIC, plan=plan, module_name="solution", limits=FAST)
    assert [r.verdict for r in results] == [Verdict.PASSED, Verdict.PASSED, Verdict.FAILED,
                                            Verdict.PASSED]
    assert counting.students == 3  # right, wrong, right again: one server per stretch


def test_traced_runs_report_the_lines_each_test_ran(backend, tmp_path):
    source = ("def add(a, b):\n    if a > 100:\n        return a + b\n    return a + b\n"
              "def divide(a, b):\n    return a / b\nGREETING = 'hello'\n")
    sub = submission(tmp_path, source=source)
    results = run_pytest_file(backend, package_tests_dir=_cases() / "basic" / "tests",
                              test_file=BASIC, submission_dir=sub, module_name="solution",
                              limits=FAST, evidence=Evidence(probe_line=4, probe_names=("a",)))
    by_name = {r.name: r for r in results}
    small = by_name["test_add_small"]
    assert small.covered is not None and {1, 2, 4} <= small.covered and 3 not in small.covered
    assert small.probes == [{"a": "2"}]
    assert by_name["test_divide_by_zero_raises"].covered is not None
    assert 2 not in by_name["test_divide_by_zero_raises"].covered


# Each attempt is a way a student process could stop, end or slow the server that forks the
# next tests (or every process of the sandbox, the server included).
ATTEMPTS = """\
import fcntl
import os
import resource
import signal


def _tries(server):
    proc = os.open(f"/proc/{server}", os.O_RDONLY | os.O_DIRECTORY)
    pipe_r, _ = os.pipe()
    return {
        "kill server": lambda: os.kill(server, signal.SIGSTOP),
        "kill -1": lambda: os.kill(-1, signal.SIGSTOP),
        "kill its group": lambda: os.killpg(server, signal.SIGSTOP),
        "kill pid 1": lambda: os.kill(1, signal.SIGKILL),
        "pidfd_open": lambda: os.pidfd_open(server),
        "pidfd of /proc": lambda: signal.pidfd_send_signal(proc, signal.SIGSTOP),
        "prlimit": lambda: resource.prlimit(server, resource.RLIMIT_CPU, (0, 0)),
        "affinity": lambda: os.sched_setaffinity(server, {0}),
        "F_SETOWN": lambda: fcntl.fcntl(pipe_r, fcntl.F_SETOWN, server),
        "memory": lambda: open(f"/proc/{server}/mem", "rb"),
    }


def attempts():
    outcome = {}
    for name, call in _tries(os.getppid()).items():
        try:
            call()
            outcome[name] = "done"
        except PermissionError:
            outcome[name] = "refused"
    return outcome


def add(a, b):
    return a + b
"""

ATTEMPT_TESTS = """\
import solution


def test_first():
    assert set(solution.attempts().values()) == {"refused"}, solution.attempts()


def test_the_server_still_forks_the_next_tests():
    assert solution.add(2, 3) == 5


def test_and_the_one_after():
    assert solution.add(-1, 1) == 0
"""


def test_student_code_can_neither_stop_nor_signal_the_fork_server(backend, tmp_path):
    tests = tmp_path / "pkg" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_attempts.py").write_text(ATTEMPT_TESTS)
    counting = Counting(backend)
    results = run_case(counting, "", submission(tmp_path, source=ATTEMPTS),
                       "tests/test_attempts.py", tests_dir=tests)
    assert [r.verdict for r in results] == [Verdict.PASSED] * 3, [r.output for r in results]
    assert counting.students == 1


def test_a_test_that_kills_its_own_process_still_leaves_the_next_tests_their_results(
        backend, tmp_path):
    source = ("import os\nCALLS = []\n"
              "def add(a, b):\n    if (a, b) == (2, 3):\n        os._exit(0)\n    return a + b\n"
              "def divide(a, b):\n    return a / b\nGREETING = 'hello'\n")
    counting = Counting(backend)
    results = {r.name: r for r in run_case(counting, "basic", submission(tmp_path, source=source),
                                           BASIC)}
    assert results["test_add_small"].verdict == Verdict.RUNTIME_ERROR
    assert "exited (code 0)" in results["test_add_small"].output
    assert passed(list(results.values())) == 5
    assert counting.students == 1


def test_a_test_that_locks_its_folders_leaves_the_next_tests_a_fresh_world(backend, tmp_path):
    source = ("import os\nGREETING = 'hello'\n"
              "def add(a, b):\n"
              "    if os.path.exists('/work/locked') or os.path.exists('/tmp/locked'):\n"
              "        return 0\n"
              "    for top in ('/work', '/tmp', '/dev/shm'):\n"
              "        os.makedirs(top + '/locked/deeper')\n"
              "        os.chmod(top + '/locked/deeper', 0)\n"
              "        os.chmod(top + '/locked', 0)\n"
              "        try:\n"
              "            os.chmod(top, 0)\n"
              "        except PermissionError:\n"
              "            pass  # not the test's to lock\n"
              "    return a + b\n"
              "def divide(a, b):\n    return a / b\n")
    counting = Counting(backend)
    results = run_case(counting, "basic", submission(tmp_path, source=source), BASIC)
    assert passed(results) == 6, [(r.name, r.verdict, r.output[:300]) for r in results]
    assert counting.students == 1


def _cases() -> Path:
    return Path(__file__).parent / "harness_cases"
