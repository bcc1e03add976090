"""One ``run_pytest_plan`` call at work: its trusted runs, its student sandboxes, its verdicts.

A :class:`Job` lists the tests (``collect``, cached per package contents), then runs them in
trusted runs (:class:`TrustedRun`, one backend run of ``agent/trusted.py`` with the ``ctl``
socket), asking for a student process per test from a fork server (``students.py``) and handing
its socket and the student's source to the trusted side. Everything a trusted run or a fork
server says is checked here; how and why: ``sandbox/harness/runner.py``.
"""

from __future__ import annotations

import compileall
import functools
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.harness import lint, warm
from sandbox.harness.agent.wire import START_SLACK, Peer
from sandbox.harness.layout import Layout, source_memfd
from sandbox.harness.results import (
    CaseResult,
    case_from_report,
    case_result,
    case_when_trusted_died,
)
from sandbox.harness.students import StudentServer, boot_argv, done
from sandbox.harness.traces import Evidence, parse_evidence
from sandbox.harness.warm import Ctl, WarmRun
from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, Verdict

AGENT_DIR = Path(__file__).resolve().with_name("agent")
AGENT_MOUNT = "/opt/grader/_grader_harness"
BOOT = "import sys; sys.path.insert(0, '/opt/grader'); from _grader_harness.{} import main; main()"
TESTS_MOUNT = "/work/tests"
CTL_FRAME = 1 << 20  # bytes of one message from the trusted process
# Collection never sees a submission, so its result depends only on the package: remember it
# per (tests folder contents, test file, module name) for the next submissions of the package.
# Each entry: the node ids, and how much of a pytest session the tests' processes may share
# (``SHARING``: what collecting found; see ``agent/trusted.py``).
_COLLECTED: OrderedDict[str, tuple[list[str], dict[str, bool]]] = OrderedDict()
SHARING = ("shared_start", "shared_collect")
_COLLECTED_MAX = 256
_COLLECTED_LOCK = threading.Lock()


@functools.cache
def compile_agent() -> None:
    """Writes the agent's bytecode next to it, once per process: the sandboxes see the folder
    read-only and cannot cache it themselves, so without it every trusted run and fork server
    compiles the agent again (~30 ms of CPU each). The host may run with
    PYTHONDONTWRITEBYTECODE (compileall writes regardless); a read-only install is left as it
    is (pip compiled it)."""
    try:
        compileall.compile_dir(AGENT_DIR, quiet=2, maxlevels=0)
    except OSError:
        pass


def error_case(nodeid: str, output: str, fault: Fault = Fault.HARNESS) -> CaseResult:
    return case_result(nodeid, nodeid, Verdict.SANDBOX_ERROR, output[-8000:], 0.0, fault)


class TrustedRun(Ctl):
    """One trusted sandbox run, with the ``ctl`` socket to talk to it while it runs."""

    def __init__(self, job: Job, config: dict[str, Any], limits: Limits) -> None:
        self.ours, theirs = socket.socketpair()
        self.peer = Peer(self.ours, max_frame=CTL_FRAME)
        self.peer.deadline = time.monotonic() + limits.wall_seconds + 30
        spec = replace(self.spec(job, {**config, "ctl_fd": theirs.fileno()}, limits),
                       pass_fds=(theirs.fileno(),))
        self.future = job.pool.submit(_run_then_close, job.backend, spec, theirs)

    @staticmethod
    def spec(job: Job, config: dict[str, Any], limits: Limits) -> RunSpec:
        return RunSpec(
            argv=[sys.executable, "-I", "-c", BOOT.format("trusted")],
            workdir=job.layout.trusted_work,
            limits=limits,
            stdin=json.dumps(config).encode(),
            env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            ro_binds={str(job.layout.tests): TESTS_MOUNT, str(AGENT_DIR): AGENT_MOUNT},
        )

    def finish(self) -> RunResult:
        self.ours.close()  # a trusted process still waiting for us gets EOF and stops
        return self.future.result()


def _run_then_close(backend: Backend, spec: RunSpec, sock: socket.socket) -> RunResult:
    try:
        return backend.run(spec)
    finally:
        sock.close()  # only now can the other end see EOF: every process of the run is gone


class Job:
    def __init__(self, backend: Backend, layout: Layout, test_file: str, module_name: str,
                 limits: Limits, pool: ThreadPoolExecutor, evidence: Evidence | None) -> None:
        compile_agent()
        self.backend = backend
        self.layout = layout
        self.test_file = test_file
        self.module_name = module_name
        self.limits = limits
        self.pool = pool
        self.students = 0
        self.evidence = evidence
        self.sources: list[Path] = []  # submission folder per plan index
        self.plan_ids: list[str] = []  # node id per plan index
        self.server: StudentServer | None = None
        self.traces: dict[int, tuple[frozenset[int], list[dict[str, str]]]] = {}
        # What collecting found the tests' processes may share: a started pytest session, and
        # its collected tests too (``agent/trusted.py``). Nothing, until it says so.
        self.sharing = dict.fromkeys(SHARING, False)
        self.order: list[str] = []  # the node ids, as collected
        self.warm = warm.ENABLED  # run in a warm trusted run of the package if one is

    def _config(self, mode: str, **extra: object) -> dict[str, Any]:
        return {"mode": mode, "module": self.module_name, "test_file": self.test_file,
                "helpers": self.layout.helper_modules, **extra}

    def run(self, plan: list[tuple[str, Path]] | None) -> list[CaseResult]:
        nodeids = self._collect()
        if isinstance(nodeids, CaseResult):
            return [nodeids]
        self.order = nodeids
        if plan is None:
            plan = [(n, self.layout.submission) for n in nodeids]
        known = set(nodeids)
        self.sources = [source for _, source in plan]
        self.plan_ids = [nodeid for nodeid, _ in plan]
        results: dict[int, CaseResult] = {
            i: error_case(n, f"no test {n} in {self.test_file}")
            for i, (n, _) in enumerate(plan) if n not in known
        }
        remaining = [i for i in range(len(plan)) if i not in results]
        while remaining:
            self._execute([(i, plan[i][0]) for i in remaining], results)
            done = [i for i in remaining if i in results]
            if not done:  # no progress: the trusted side cannot run at all
                for i in remaining:
                    results[i] = error_case(plan[i][0], "the test runner did not start")
            remaining = [i for i in remaining if i not in results]
        cases = [results[i] for i in range(len(plan))]
        for i, case in enumerate(cases):
            if i in self.traces:
                case.covered, case.probes = self.traces[i]
        return cases

    # -- collection --------------------------------------------------------------------------

    def _collect(self) -> list[str] | CaseResult:
        key = f"{self.layout.fingerprint}:{self.test_file}:{self.module_name}"
        with _COLLECTED_LOCK:
            if key in _COLLECTED:  # these very files passed the check below when collected
                _COLLECTED.move_to_end(key)
                nodeids, sharing = _COLLECTED[key]
                self.sharing = dict(sharing)
                return list(nodeids)
        # A package that runs text as code in its tests is refused at upload (lint.py); one
        # stored before that check existed is refused here, before any student code runs.
        unsafe = lint.check(self.layout.tests, self.module_name, kinds=("code",))
        if unsafe:
            return error_case(self.test_file, "These tests cannot be run safely:\n"
                              + "\n".join(map(str, unsafe)), Fault.PACKAGE)
        found = self._collect_in_sandbox()
        if isinstance(found, CaseResult):
            return found
        found[1]["replay"] = self._replays()
        with _COLLECTED_LOCK:
            _COLLECTED[key] = (list(found[0]), dict(found[1]))
            while len(_COLLECTED) > _COLLECTED_MAX:
                _COLLECTED.popitem(last=False)
        self.sharing = dict(found[1])
        return list(found[0])

    def _replays(self) -> bool:
        """Whether each test of the file first replays those before it (``RunPlugin.replay``):
        set-up of a wider scope than the test (a fixture of the file or of a ``conftest.py``,
        ``setUpClass``, ``setup_module``...) makes student objects that the tests then share
        under plain pytest (``lint.cautions``)."""
        folders = {str(parent / "conftest.py") for parent in Path(self.test_file).parents}
        return any(f.file == self.test_file or f.file in folders
                   for f in lint.cautions(self.layout.tests, self.module_name))

    def _scale(self, nodeid: str) -> int:
        """Tests the process of ``nodeid`` runs: itself, and those it replays first."""
        if not self.sharing.get("replay") or nodeid not in self.order:
            return 1
        return self.order.index(nodeid) + 1

    def _collect_in_sandbox(self) -> tuple[list[str], dict[str, bool]] | CaseResult:
        limits = _trusted_limits(self.limits, wall=self.limits.wall_seconds + 30)
        run = TrustedRun(self, self._config("collect"), limits)
        message = run.recv()
        outcome = run.finish()
        if message and message.get("op") == "collected":
            nodeids = message.get("nodeids")
            sharing = {key: message.get(key, False) for key in SHARING}
            if isinstance(nodeids, list) and all(
                isinstance(n, str) and 0 < len(n) <= 1000 for n in nodeids
            ) and len(set(nodeids)) == len(nodeids) and all(
                isinstance(v, bool) for v in sharing.values()
            ):
                return nodeids, sharing
            return error_case(self.test_file, "the test runner sent a malformed test list")
        if message and message.get("op") in ("collect_error", "fatal"):
            # No student process exists while collecting: pytest's collection errors are the
            # package's (a test module, conftest or helper that does not import); an exception
            # that escaped the agent itself is ours.
            text = message.get("output")
            fault = Fault.PACKAGE if message["op"] == "collect_error" else Fault.HARNESS
            return error_case(self.test_file, "Collecting the tests failed:\n"
                              + (text if isinstance(text, str) else ""), fault)
        # The trusted run ended without a word: out of time or memory, or exited, while
        # importing the teacher's tests (the package's), or the sandbox failed (ours).
        detail = outcome.message or outcome.stderr.decode(errors="replace")
        fault = Fault.HARNESS if outcome.verdict == Verdict.SANDBOX_ERROR else Fault.PACKAGE
        return error_case(self.test_file, f"Collecting the tests failed: {detail}", fault)

    # -- execution ---------------------------------------------------------------------------

    def _execute(self, todo: list[tuple[int, str]], results: dict[int, CaseResult]) -> None:
        """Run ``todo`` (plan index, node id) in one trusted run, in order."""
        wall = self.limits.wall_seconds
        nodeids = [n for _, n in todo]
        tests = sum(map(self._scale, nodeids))
        limits = _trusted_limits(self.limits, wall=_per_test(wall) * tests + 30)
        config = self._config("run", nodeids=nodeids, wall_seconds=wall,
                              cpu_seconds=self.limits.cpu_seconds, **self.sharing)
        run: TrustedRun | WarmRun
        if self.warm:
            self._server_for([slot for slot, _ in todo])  # boots while a warm run starts
            run = self._warm_run(config, limits) or TrustedRun(self, config, limits)
        else:
            run = TrustedRun(self, config, limits)
            self._server_for([slot for slot, _ in todo])  # boots while the trusted side imports
        current: tuple[int, StudentServer | Future[RunResult]] | None = None
        failure = ""
        index = 0
        first = run.recv()
        if first is None and isinstance(run, WarmRun):  # the warm run was gone before the job
            run.finish()
            run = TrustedRun(self, config, limits)
            first = run.recv()
        try:
            message = first
            while message is not None:
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
                message = run.recv()
        finally:
            if current is None and index == len(todo) and self.server is not None:
                self.server.release()  # no test is left for it: it ends with the trusted run
            outcome = run.finish()
            if current is not None:
                slot, student = current
                results[slot] = case_when_trusted_died(nodeids[index], outcome, failure)
                self._end_student(slot, student)

    def _warm_run(self, config: dict[str, Any], limits: Limits) -> WarmRun | None:
        """This job in a warm trusted run of the package (``warm.py``), if one is or gets
        ready."""
        base = {**config, "nodeids": []}
        key = (self.backend, self.layout.fingerprint, self.test_file, self.module_name,
               tuple(self.layout.helper_modules), tuple(sorted(self.sharing.items())),
               self.limits)
        spec = TrustedRun.spec(self, base, _trusted_limits(self.limits, wall=warm.LIFETIME))
        found = warm.acquire(self.backend, key, spec, {
            "tests": self.layout.tests, "trusted": self.layout.trusted_work,
        }, limits.wall_seconds)
        return None if found is None else found.start(config["nodeids"], limits.wall_seconds,
                                                       limits)

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
        count = sum(self._scale(self.plan_ids[s]) for s in slots[:count])
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

    def _start_student(self, run: TrustedRun | WarmRun, slots: list[int]
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
                trusted_end = server.start_test(config, self._scale(self.plan_ids[slots[0]]))
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
        source = source_memfd(server.source / f"{self.module_name}.py")
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
            found = parse_evidence(evidence, max_line)
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


__all__ = ["Job", "error_case"]
