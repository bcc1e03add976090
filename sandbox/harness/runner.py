"""Tamper-proof runner for a teacher's pytest file against a student module.

Threat model
------------
The student module is hostile. Whatever it does, its score must never exceed what an empty or
wrong solution gets. Known attacks, each with a regression test in
``tests/sandbox/test_harness_attacks.py``: exiting 0 early (``os._exit(0)``, ``sys.exit(0)``
at import or inside a call); patching pytest (``_pytest.runner``, ``TestReport``, assertion
rewriting, ``builtins``); returning objects whose ``__eq__`` is always True (or ``__ne__``
False, ``__bool__``/``__hash__`` tricks, int subclasses); writing fake result files (junit
XML, JSON) in the cwd, ``/tmp`` or the tests folder; killing its parent (``os.getppid()``,
``kill -9 -1``); editing or replacing the test files. The teacher's tests and helper modules
are trusted; they are code the grader runs on purpose. The sandbox backend provides the walls
(namespaces, rlimits, a uid per run); this module decides what runs on which side of them.

Theory of operation
-------------------
No process that runs test logic ever imports student code, and no process that runs student
code ever sees the tests or decides a result:

* The **trusted** sandbox runs pytest on the teacher's test file (``agent/trusted.py``), with
  the tests read-only at ``/work/tests``. ``import solution`` there gives a proxy module
  (``agent/redirect.py``): attribute reads, calls, iteration and operators become requests to...
* ...a **student** process (``agent/student.py``), a fresh one per test, which imports the
  real module when the test imports it and executes requests. It sees the submission (a fresh
  copy at ``/work``) and, read-only at ``/work/tests``, the helper files of tests/ (everything
  except test modules, ``conftest.py`` and a file named like the student module), so
  ``from graph import Node`` works on both sides. Student processes come from one student
  sandbox per test file and submission folder: a fork server (``agent/forkserver.py``,
  driven by ``students.py``) that forks each test's process from an interpreter that has
  loaded only the agent, under that test's own limits, after killing every process of the
  previous test and restoring ``/work``, ``/tmp`` and ``/dev/shm``: nothing carries over from
  one test to the next. The server runs next to student code, so nothing it says is trusted:
  its reports only say how a lost test failed, and a seccomp filter keeps student processes
  from stopping or signalling it.
* The two talk over a socketpair made here per test; its student end is passed to the fork
  server (SCM_RIGHTS over the server's own socket, itself passed with ``RunSpec.pass_fds``), its
  trusted end to the trusted process over the ``ctl`` socket (SCM_RIGHTS).
  Messages are length-prefixed strict JSON, at most 8 MB (``agent/wire.py``). Values travel as
  object graphs with reference ids, so cycles and shared references survive (``agent/codec.py``),
  and they are rebuilt only as plain values, instances of the tests/ helper classes (by
  ``cls.__new__`` plus attributes, never a method named by the peer), or proxies. Nothing is
  ever unpickled, and comparisons of the test's values happen on the trusted side: an object
  with a lying ``__eq__`` stays in the student process, the test sees a proxy that is equal only
  to itself. Arguments travel back after every call so in-place mutations reach the test's own
  lists, dicts, sets and helper objects; exceptions come back by class name (builtins as
  themselves, student classes as ``StudentException`` subclasses of the same builtin base).
* The trusted sandbox also holds a read-only copy of the student's source at
  ``/work/<module>.py``, sent per test as a memfd next to the socket: text for tests that read
  it. Nothing there imports or runs it: the import is redirected, and an audit hook stops any
  attempt to run it there or to start a program (``agent/redirect.py``).
* The trusted process reports to this module over ``ctl``, a socket no student process holds;
  every message is checked against a strict schema and a size cap, and anything malformed
  fails the test with SANDBOX_ERROR, never passes it.

Could not be graded. A SANDBOX_ERROR result carries a ``Fault``: PACKAGE when the teacher's
tests failed on their own (collection errors, a crashing helper or conftest, a fixture that
failed before the student's code was used: none of these depend on the submission), HARNESS
when this runner or the trusted process failed. Either makes the submission "could not be
graded" (``sandbox.outcome.ungradable``): no score, no attempt used. A failure that may depend
on the submission stays the student's result.

Per-test isolation. Tests are first listed by a trusted run with no student process at all
(``collect``): the count of tests never depends on the submission (so the list is cached per
package contents and reused for later submissions). A second trusted run is a
zygote: it imports pytest once, then per test asks for a student process (``start``), forks a
child that runs pytest on that one node id, and kills the child if it outlives the test's wall
time. Each test gets ``limits`` for its own student process (CPU and address space set in
the forked child, the wall clock kept by the trusted side and, as a backstop, the fork server),
so one that hangs, crashes or exhausts memory fails alone, with the verdict of how its process
ended (the fork server's report, or the backend's verdict on the student sandbox when the whole
sandbox ended); the others still score. A fork server that dies or stops answering is replaced
by a new one for the remaining tests. If the trusted process itself dies, the test it was
running gets a verdict from that run's result and the remaining tests continue in a new
trusted run. Both zygotes fork from prepared state: the trusted one has pytest imported, its
``Config`` with every default plugin built (``trusted._prepare_config``) and its heap frozen
for the garbage collector; what a test costs is one pytest session in a forked child and one
forked student process (``bench/harness.py`` prints the figures against plain pytest).

What teacher tests can and cannot do
------------------------------------
A test module written for plain pytest gives each test the result plain pytest would give it,
for correct and for wrong solutions alike (the corpus of idioms that holds this is
``tests/sandbox/fidelity/``; ``bench/fidelity.py`` prints the figures). In particular:

* Reach student code through ``import solution`` / ``from solution import x``, in test functions
  and fixtures, and also by importing it inside a test (again after ``del sys.modules[...]``),
  ``importlib.reload`` or ``importlib.util.spec_from_file_location`` of its file: the import
  runs in the student process, when the test imports (``agent/redirect.py``). While tests are
  collected there is no student process: a module-level ``solution.CASES`` used for parametrize
  fails collection (refused at upload, ``lint.py``).
* Patch what the student's code reads: ``builtins.input``/``print``, ``sys.stdin``,
  ``sys.argv``, ``os.environ``, ``random`` (its functions and its seed) and ``time.sleep`` and
  friends are mirrored into the student process before each request (``agent/ambient.py``), one
  way only; patched functions are called back here. Output reaches ``capsys``, ``capfd`` and
  ``redirect_stdout`` in the order it was written, ``input()`` prompts included; warnings reach
  ``pytest.warns``.
* Read the student's source as text: ``/work/<module>.py`` in the trusted sandbox is a
  read-only copy (``solution.__file__``, ``open``, ``ast.parse``, ``inspect.getsource`` and
  ``signature``); nothing on this side imports or runs it.
* Run the student's file as a program: ``runpy.run_path``/``run_module`` run it in the student
  process, ``subprocess`` of ``[sys.executable, "solution.py", ...]`` (or ``-m solution``) runs
  it in a fresh interpreter in the student sandbox (``agent/programs.py``).
* Not: start any other program, or run the student's code in the trusted process (``exec`` of
  its text, a module loader). Such tests are refused at upload (``lint.py``) and stopped when
  they run (an audit hook, ``redirect.install_guard``): SANDBOX_ERROR with ``Fault.PACKAGE``,
  never a score.
* Not yet: share files with the student's code (``tmp_path``, a patched ``open``), see its log
  records (``caplog``), or ``type()`` of a student object (a proxy; ``isinstance`` works).
* Pass plain values, instances of the tests/ helper classes, student objects and functions
  (called back across the channel). Instances of classes defined in a test module or conftest
  cannot be passed. Tuples come back as tuples, namedtuples of the student as plain tuples.
* A student object equals only itself when compared with a test's value; compare its
  attributes or its methods' results. Two student objects compare by the student's ``__eq__``.
  ``x in student_object`` iterates it here. Each call is a round trip (tens of microseconds).
* Arithmetic between a student object and a test's value (``abs(result - expected) < eps``,
  ``sum(student_objects)``) fails the test with ``StudentOperandError``: the student's
  ``__sub__`` would compute the verdict. Between student objects it is the student's own;
  ``abs()``, ``-x`` and ``float()`` of a student object are the student's answers, plain values.
* Everything in tests/ except test modules, ``conftest.py`` and ``<module>.py`` is readable
  by student code: expected answers belong in the test modules.
* Tests skipped by their marks are left out; a test that skips itself while running counts as
  FAILED, so the number of results never depends on the submission.
* Backends must honour ``RunSpec.pass_fds`` (bubblewrap does natively, Docker through a
  unix-socket handoff); pytest must be importable in the sandbox (bubblewrap binds the venv
  read-only; the Docker image has the same pin).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import fstree
from sandbox.harness import lint
from sandbox.harness.agent.codec import HelperRegistry
from sandbox.harness.agent.wire import (
    START_SLACK,
    ChannelClosed,
    ChannelTimeout,
    Message,
    Peer,
    ProtocolError,
)
from sandbox.harness.results import CaseResult, case_from_report, case_when_trusted_died
from sandbox.harness.students import StudentServer, boot_argv, done
from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, Verdict

AGENT_DIR = Path(__file__).resolve().with_name("agent")
AGENT_MOUNT = "/opt/grader/_grader_harness"
BOOT = "import sys; sys.path.insert(0, '/opt/grader'); from _grader_harness.{} import main; main()"
TESTS_MOUNT = "/work/tests"
CTL_FRAME = 1 << 20  # bytes of one message from the trusted process
MAX_SOURCE = 4 << 20  # bytes of the student's module sent to the trusted side as text
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Collection never sees a submission, so its result depends only on the package: remember it
# per (tests folder contents, test file, module name) for the next submissions of the package.
_COLLECTED: OrderedDict[str, list[str]] = OrderedDict()
_COLLECTED_MAX = 256
_COLLECTED_LOCK = threading.Lock()


def run_pytest_file(backend: Backend, *, package_tests_dir: Path, test_file: str,
                    submission_dir: Path, module_name: str, limits: Limits,
                    evidence: Evidence | None = None) -> list[CaseResult]:
    """Run every test of ``test_file`` against the student module; one result per test case.

    ``package_tests_dir`` is the package's tests/ folder and ``test_file`` a path relative to the
    package root (``tests/test_add.py``). ``submission_dir`` holds the student's files,
    ``module_name`` is what the tests import (``solution``). Each test case runs under
    ``limits`` in a student process of its own. Collection errors in the tests give one
    SANDBOX_ERROR result (``Fault.PACKAGE``); no tests give ``[]``. Tests skipped by their
    ``skip``/``skipif`` marks are left out; one that skips itself while running counts as FAILED.
    With ``evidence``, each student process is traced (see ``Evidence``): for feedback only,
    never for a score.
    Raises ``SandboxError`` only when the backend itself fails.
    """
    return run_pytest_plan(backend, package_tests_dir=package_tests_dir, test_file=test_file,
                           plan=None, submission_dir=submission_dir, module_name=module_name,
                           limits=limits, evidence=evidence)


def run_pytest_plan(backend: Backend, *, package_tests_dir: Path, test_file: str,
                    plan: list[tuple[str, Path]] | None, module_name: str, limits: Limits,
                    submission_dir: Path | None = None,
                    evidence: Evidence | None = None) -> list[CaseResult]:
    """Run chosen tests of ``test_file``, each against a submission folder of its own, in one
    trusted run: ``plan`` lists (node id, submission folder) pairs, node ids may repeat. This is
    how feedback checks many candidate repairs at the cost of one student process per pair.
    Without ``plan``, every collected test runs against ``submission_dir``. One result per pair,
    in order; a node id the tests do not have gives SANDBOX_ERROR.
    """
    if not module_name.isidentifier():
        raise ValueError(f"module name {module_name!r} is not a Python identifier")
    rel = PurePosixPath(test_file)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] != ("tests",) or rel.suffix != ".py":
        raise ValueError(f"test file {test_file!r} must be a .py path under tests/")
    if not (Path(package_tests_dir) / Path(*rel.parts[1:])).is_file():
        return [_error_case(test_file, f"test file {test_file} not found in the package",
                            Fault.PACKAGE)]
    if module_name in lint.RESERVED_MODULES:
        return [_error_case(test_file, lint.RESERVED.format(module=module_name), Fault.PACKAGE)]
    if plan is not None and not plan:
        return []
    first = Path(submission_dir) if submission_dir is not None else plan[0][1]  # type: ignore[index]
    with fstree.temporary_folder("harness-") as tmp, \
            ThreadPoolExecutor(max_workers=3, thread_name_prefix="harness") as pool:
        # The trusted run, the student sandbox, and room for the next student sandbox should
        # one be given up while its run still goes on (it ends at its own wall clock).
        layout = _Layout.create(Path(tmp), Path(package_tests_dir), first, module_name)
        job = _Job(backend, layout, test_file, module_name, limits, pool, evidence)
        try:
            return job.run(plan)
        finally:
            job.close()


@dataclass(frozen=True)
class Evidence:
    """Trace student processes for feedback: the lines of the student module each test runs,
    and, with ``probe_line``, the values of ``probe_names`` the first times that line runs."""

    probe_line: int = 0
    probe_names: tuple[str, ...] = ()


MAX_EVIDENCE_BYTES = 256 * 1024


def _read_evidence(path: Path, max_line: int) -> tuple[frozenset[int], list[dict[str, str]]] | None:
    """The evidence file a traced program wrote at ``path`` (io tests: ``sandbox.evidence``)."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_EVIDENCE_BYTES:
            return None
        return _parse_evidence(path.read_text(encoding="utf-8"), max_line)
    except (OSError, ValueError):
        return None


def _parse_evidence(text: str, max_line: int
                    ) -> tuple[frozenset[int], list[dict[str, str]]] | None:
    """What a traced student process wrote: untrusted, so capped and checked field by field."""
    if len(text) > MAX_EVIDENCE_BYTES:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        return None
    lines = frozenset(n for n in data["lines"]
                      if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= max_line)
    probes: list[dict[str, str]] = []
    for raw in data.get("probes", [])[:3] if isinstance(data.get("probes"), list) else []:
        if isinstance(raw, dict):
            probes.append({str(k)[:40]: str(v)[:200] for k, v in list(raw.items())[:8]
                           if isinstance(k, str) and isinstance(v, str)})
    return lines, probes


def _error_case(nodeid: str, output: str, fault: Fault = Fault.HARNESS) -> CaseResult:
    return CaseResult(nodeid=nodeid, name=nodeid, verdict=Verdict.SANDBOX_ERROR,
                      output=output[-8000:], wall_seconds=0.0, fault=fault)


@dataclass
class _Layout:
    """Host folders of one run_pytest_file call (all under one temporary folder)."""

    root: Path
    tests: Path  # copy of the package tests, read-only in the trusted sandbox
    helpers: Path  # tests/ minus test modules, read-only in student sandboxes
    trusted_work: Path
    submission: Path
    helper_modules: list[str] = field(default_factory=list)
    fingerprint: str = ""  # hash of every file of the tests folder

    @classmethod
    def create(cls, root: Path, tests_dir: Path, submission: Path, module_name: str) -> _Layout:
        tests = root / "tests"
        shutil.copytree(tests_dir, tests, ignore=_IGNORED)
        helpers = root / "helpers"
        shutil.copytree(tests_dir, helpers, ignore=_helper_filter(module_name))
        for folder in (tests, helpers):
            _make_world_readable(folder)
        trusted_work = root / "trusted"
        (trusted_work / "tests").mkdir(parents=True)
        # While tests are listed the student's file is empty (reading it then gives ""); each
        # test's trusted process gets the real text before it starts (see _start_student).
        placeholder = trusted_work / f"{module_name}.py"
        placeholder.write_bytes(b"")
        placeholder.chmod(0o644)
        rel_paths = [p.relative_to(helpers).as_posix() for p in helpers.rglob("*.py")]
        return cls(root, tests, helpers, trusted_work, submission,
                   HelperRegistry.names_for(rel_paths), _fingerprint(tests))

    def student_workdir(self, index: int, source: Path) -> tuple[Path, Path]:
        """An empty ``/work`` for a student sandbox and a copy of the submission it restores
        ``/work`` from before each test (read-only there): nothing a test's process writes
        leaks on."""
        work = self.root / f"student-{index}"
        (work / "tests").mkdir(parents=True)  # where the helpers are mounted
        pristine = self.root / f"submission-{index}"
        # Any shape the submission (or a build in the sandbox) left: links stay links, FIFOs
        # and sockets are left out, depth costs no recursion.
        fstree.copy_tree(source, pristine, ignore=_IGNORED)
        _make_readable(pristine)
        return work, pristine


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _helper_filter(module_name: str) -> Any:
    def ignore(folder: str, names: list[str]) -> set[str]:
        hidden = set(_IGNORED(folder, names))
        for name in names:
            test_module = name.endswith(".py") and (
                name.startswith("test_") or name.endswith("_test.py")
            )
            if test_module or name in ("conftest.py", f"{module_name}.py"):
                hidden.add(name)
        return hidden

    return ignore


def _make_world_readable(folder: Path) -> None:
    """Read-only binds must be readable by the sandbox's own uid."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)


def _make_readable(folder: Path) -> None:
    """The sandbox's uid reads (and enters) every file and folder; modes are kept otherwise."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | (0o555 if path.is_dir() else 0o444))


class _TrustedRun:
    """One trusted sandbox run, with the ``ctl`` socket to talk to it while it runs."""

    def __init__(self, job: _Job, config: dict[str, Any], limits: Limits) -> None:
        self.ours, theirs = socket.socketpair()
        self.peer = Peer(self.ours, max_frame=CTL_FRAME)
        self.peer.deadline = time.monotonic() + limits.wall_seconds + 30
        spec = RunSpec(
            argv=[sys.executable, "-I", "-c", BOOT.format("trusted")],
            workdir=job.layout.trusted_work,
            limits=limits,
            stdin=json.dumps({**config, "ctl_fd": theirs.fileno()}).encode(),
            env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            ro_binds={str(job.layout.tests): TESTS_MOUNT, str(AGENT_DIR): AGENT_MOUNT},
            pass_fds=(theirs.fileno(),),
        )
        self.future = job.pool.submit(_run_then_close, job.backend, spec, theirs)

    def recv(self) -> Message | None:
        """The next message, or None once the run is over (or spoke out of turn)."""
        try:
            return self.peer.recv()
        except ChannelClosed:
            return None
        except (ProtocolError, ChannelTimeout) as exc:
            return {"op": "malformed", "output": str(exc)}

    def send_fds(self, *fds: int) -> None:
        socket.send_fds(self.ours, [b"F"], list(fds))

    def finish(self) -> RunResult:
        self.ours.close()  # a trusted process still waiting for us gets EOF and stops
        return self.future.result()


def _run_then_close(backend: Backend, spec: RunSpec, sock: socket.socket) -> RunResult:
    try:
        return backend.run(spec)
    finally:
        sock.close()  # only now can the other end see EOF: every process of the run is gone


class _Job:
    def __init__(self, backend: Backend, layout: _Layout, test_file: str, module_name: str,
                 limits: Limits, pool: ThreadPoolExecutor, evidence: Evidence | None) -> None:
        self.backend = backend
        self.layout = layout
        self.test_file = test_file
        self.module_name = module_name
        self.limits = limits
        self.pool = pool
        self.students = 0
        self.evidence = evidence
        self.sources: list[Path] = []  # submission folder per plan index
        self.server: StudentServer | None = None
        self.traces: dict[int, tuple[frozenset[int], list[dict[str, str]]]] = {}

    def _config(self, mode: str, **extra: object) -> dict[str, Any]:
        return {"mode": mode, "module": self.module_name, "test_file": self.test_file,
                "helpers": self.layout.helper_modules, **extra}

    def run(self, plan: list[tuple[str, Path]] | None) -> list[CaseResult]:
        nodeids = self._collect()
        if isinstance(nodeids, CaseResult):
            return [nodeids]
        if plan is None:
            plan = [(n, self.layout.submission) for n in nodeids]
        known = set(nodeids)
        self.sources = [source for _, source in plan]
        results: dict[int, CaseResult] = {
            i: _error_case(n, f"no test {n} in {self.test_file}")
            for i, (n, _) in enumerate(plan) if n not in known
        }
        remaining = [i for i in range(len(plan)) if i not in results]
        while remaining:
            self._execute([(i, plan[i][0]) for i in remaining], results)
            done = [i for i in remaining if i in results]
            if not done:  # no progress: the trusted side cannot run at all
                for i in remaining:
                    results[i] = _error_case(plan[i][0], "the test runner did not start")
            remaining = [i for i in remaining if i not in results]
        cases = [results[i] for i in range(len(plan))]
        for i, case in enumerate(cases):
            if i in self.traces:
                case.covered, case.probes = self.traces[i]
        return cases

    # -- collection --------------------------------------------------------------------------

    def _collect(self) -> list[str] | CaseResult:
        # A package that runs text as code in its tests is refused at upload (lint.py); one
        # stored before that check existed is refused here, before any student code runs.
        unsafe = lint.check(self.layout.tests, self.module_name, kinds=("code",))
        if unsafe:
            return _error_case(self.test_file, "These tests cannot be run safely:\n"
                               + "\n".join(map(str, unsafe)), Fault.PACKAGE)
        key = f"{self.layout.fingerprint}:{self.test_file}:{self.module_name}"
        with _COLLECTED_LOCK:
            if key in _COLLECTED:
                _COLLECTED.move_to_end(key)
                return list(_COLLECTED[key])
        found = self._collect_in_sandbox()
        if isinstance(found, list):
            with _COLLECTED_LOCK:
                _COLLECTED[key] = list(found)
                while len(_COLLECTED) > _COLLECTED_MAX:
                    _COLLECTED.popitem(last=False)
        return found

    def _collect_in_sandbox(self) -> list[str] | CaseResult:
        limits = _trusted_limits(self.limits, wall=self.limits.wall_seconds + 30)
        run = _TrustedRun(self, self._config("collect"), limits)
        message = run.recv()
        outcome = run.finish()
        if message and message.get("op") == "collected":
            nodeids = message.get("nodeids")
            if isinstance(nodeids, list) and all(
                isinstance(n, str) and 0 < len(n) <= 1000 for n in nodeids
            ) and len(set(nodeids)) == len(nodeids):
                return nodeids
            return _error_case(self.test_file, "the test runner sent a malformed test list")
        if message and message.get("op") in ("collect_error", "fatal"):
            # No student process exists while collecting: pytest's collection errors are the
            # package's (a test module, conftest or helper that does not import); an exception
            # that escaped the agent itself is ours.
            text = message.get("output")
            fault = Fault.PACKAGE if message["op"] == "collect_error" else Fault.HARNESS
            return _error_case(self.test_file, "Collecting the tests failed:\n"
                               + (text if isinstance(text, str) else ""), fault)
        # The trusted run ended without a word: out of time or memory, or exited, while
        # importing the teacher's tests (the package's), or the sandbox failed (ours).
        detail = outcome.message or outcome.stderr.decode(errors="replace")
        fault = Fault.HARNESS if outcome.verdict == Verdict.SANDBOX_ERROR else Fault.PACKAGE
        return _error_case(self.test_file, f"Collecting the tests failed: {detail}", fault)

    # -- execution ---------------------------------------------------------------------------

    def _execute(self, todo: list[tuple[int, str]], results: dict[int, CaseResult]) -> None:
        """Run ``todo`` (plan index, node id) in one trusted run, in order."""
        wall = self.limits.wall_seconds
        limits = _trusted_limits(self.limits, wall=_per_test(wall) * len(todo) + 30)
        nodeids = [n for _, n in todo]
        config = self._config("run", nodeids=nodeids, wall_seconds=wall)
        run = _TrustedRun(self, config, limits)
        self._server_for([slot for slot, _ in todo])  # boots while the trusted side imports
        current: tuple[int, StudentServer | Future[RunResult]] | None = None
        failure = ""
        index = 0
        try:
            while (message := run.recv()) is not None:
                op = message.get("op")
                if op == "start" and current is None and index < len(todo) and (
                    message.get("index") == index and message.get("nodeid") == nodeids[index]
                ):
                    slots = [slot for slot, _ in todo[index:]]
                    current = (slots[0], self._start_student(run, slots))
                elif op == "result" and current is not None and message.get("index") == index:
                    slot, student = current
                    current = None
                    results[slot] = case_from_report(nodeids[index], message,
                                                     self._end_student(slot, student), wall)
                    index += 1
                else:
                    text = message.get("output")
                    failure = text if isinstance(text, str) else f"unexpected message {op!r}"
                    break
        finally:
            outcome = run.finish()
            if current is not None:
                slot, student = current
                results[slot] = case_when_trusted_died(nodeids[index], outcome, failure)
                self._end_student(slot, student)

    def _server_for(self, slots: list[int]) -> StudentServer:
        """The fork server for the submission of ``slots[0]``: the running one when it serves
        that folder and still works, else a new one (sized for the following tests of the same
        folder)."""
        source = self.sources[slots[0]]
        server = self.server
        if server is not None and server.source_dir == source and not server.broken:
            return server
        if server is not None:
            server.close()
        self.students += 1
        work, pristine = self.layout.student_workdir(self.students, source)
        count = next((i for i, s in enumerate(slots) if self.sources[s] != source), len(slots))
        server = StudentServer(
            self.backend, self.pool, argv=boot_argv(BOOT), workdir=work, pristine=pristine,
            ro_binds={str(self.layout.helpers): TESTS_MOUNT, str(AGENT_DIR): AGENT_MOUNT},
            limits=self.limits, tests=count, per_test=_per_test(self.limits.wall_seconds),
            config={"module": self.module_name, "helpers": self.layout.helper_modules,
                    "path": ["/work", TESTS_MOUNT]},
            source_dir=source,
        )
        self.server = server
        return server

    def _start_student(self, run: _TrustedRun, slots: list[int]
                       ) -> StudentServer | Future[RunResult]:
        """A fresh student process for the test of plan index ``slots[0]``, its socket and the
        student's source handed to the trusted side. The server that forked it, or (when no
        server would start) the finished run that tells how it ended."""
        server = self._server_for(slots)
        config: dict[str, Any] = {}
        if self.evidence is not None:
            config["coverage"] = f"/work/.evidence-{secrets.token_hex(16)}.json"
            if self.evidence.probe_line:
                config["probe"] = {"line": self.evidence.probe_line,
                                   "names": list(self.evidence.probe_names)}
        student: StudentServer | Future[RunResult]
        trusted_end: socket.socket | None = None
        # A server that ended after its previous test was reported (its clean-up failed) is
        # replaced once: this test is charged only for what its own process did.
        for _ in range(2):
            if server.ready(self.limits.wall_seconds + START_SLACK):
                trusted_end = server.start_test(config)
                if not server.broken:
                    break
                trusted_end.close()
                trusted_end = None
            elif not server.served:
                break  # it never started: the test's process is lost from the start
            server = self._server_for(slots)
        if trusted_end is not None:
            student = server
        else:  # the test's student process is lost from the start: the run says how
            trusted_end, other = socket.socketpair()
            other.close()
            self.server = None
            student = done(server.lost_at_start())
        source = _source_memfd(server.source / f"{self.module_name}.py")
        try:
            run.send_fds(trusted_end.fileno(), source)
        except OSError:
            pass  # the trusted run is gone; its loop ends and reports
        finally:
            trusted_end.close()
            os.close(source)
        return student

    def _end_student(self, slot: int, student: StudentServer | Future[RunResult]
                     ) -> Future[RunResult]:
        if not isinstance(student, StudentServer):
            return student
        result, evidence = student.end_test()
        if evidence is not None:
            try:
                max_line = len((student.source / f"{self.module_name}.py").read_bytes()
                               .splitlines()) or 1
            except OSError:
                max_line = 1
            found = _parse_evidence(evidence, max_line)
            if found is not None:
                self.traces[slot] = found
        if student.broken and self.server is student:
            self.server = None
            student.close()
        return done(result)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


def _per_test(wall: float) -> float:
    return 2 * wall + START_SLACK + 5  # waiting out a lingering student, then the test


def _source_memfd(path: Path) -> int:
    """A memfd holding the student module's bytes, for the trusted side to read as text.

    The file is the student's (a build step in the sandbox may have written it): read without
    following a symbolic link, only a regular file, capped; anything else gives an empty text.
    """
    data = b""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        fd = -1
    if fd >= 0:
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                data = os.read(fd, MAX_SOURCE)
        finally:
            os.close(fd)
    memfd = os.memfd_create("student-source", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(memfd, view):]
    os.lseek(memfd, 0, os.SEEK_SET)
    return memfd


def _trusted_limits(limits: Limits, *, wall: float) -> Limits:
    """The trusted side's own budget: generous, since it runs only trusted code.

    Per-test time is enforced inside it (the zygote kills a child at the test's deadline);
    these limits only stop a trusted run that went wrong as a whole.
    """
    return Limits(
        cpu_seconds=wall,
        wall_seconds=wall,
        memory_mb=max(1024, 2 * limits.memory_mb),
        max_processes=16,
        output_bytes=1_000_000,
        file_size_mb=64,
        tmp_size_mb=max(64, limits.tmp_size_mb),
        network=False,
    )


__all__ = ["CaseResult", "Evidence", "run_pytest_file", "run_pytest_plan"]
