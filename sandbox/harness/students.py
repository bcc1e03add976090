"""The runner's side of a student sandbox: one fork server per submission folder.

A :class:`StudentServer` is one backend run of ``agent/forkserver.py`` with the submission
read-only at ``forkserver.PRISTINE``; it serves the tests of that folder one at a time, each
in a freshly forked process with the test's own limits (see that module for what happens in
the sandbox). This side trusts nothing the server says: a report is checked field by field and
only ever describes how a test's student process ended (a failure's verdict and message, never a
pass, never "could not be graded"). A server that dies, breaks the protocol or stops answering is
given up; the next test gets a new one.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sandbox.harness.agent.forkserver import PRISTINE
from sandbox.harness.agent.wire import ChannelClosed, ChannelTimeout, Peer, ProtocolError
from sandbox.types import Backend, Limits, RunResult, RunSpec, Verdict
from sandbox.verdicts import classify

CTL_FRAME = 1 << 20  # bytes of one report of the server (the evidence file is at most 256 KB)
END_WAIT = 5.0  # seconds for the server to kill a test's processes and report, after "end"
MAX_TAIL = 8192
EXTRA_MEMORY_MB = 64  # the server's own interpreter, beside the test's process in the cgroup


def server_limits(limits: Limits, *, tests: int, per_test: float) -> Limits:
    """The sandbox's budget for serving ``tests`` tests; each test's process gets ``limits``
    (CPU and address space set in the child, the wall clock kept by the server and the trusted
    side), so these only bound the server as a whole."""
    return limits.with_(
        cpu_seconds=tests * (limits.cpu_seconds + 1) + 10,
        wall_seconds=tests * per_test + 30,
        memory_mb=limits.memory_mb + EXTRA_MEMORY_MB,
        max_processes=limits.max_processes + 1,
    )


def done(run: RunResult) -> Future[RunResult]:
    future: Future[RunResult] = Future()
    future.set_result(run)
    return future


class StudentServer:
    """One student sandbox (a fork server) for the tests of one submission folder."""

    def __init__(self, backend: Backend, pool: ThreadPoolExecutor, *, argv: list[str],
                 workdir: Path, pristine: Path, ro_binds: dict[str, str], limits: Limits,
                 tests: int, per_test: float, config: dict[str, Any], source_dir: Path) -> None:
        self.source_dir = source_dir  # the submission folder it serves
        self.source = pristine  # its copy, bound read-only in the sandbox
        self.limits = limits
        self.ours, theirs = socket.socketpair()
        self.peer = Peer(self.ours, max_frame=CTL_FRAME)
        self.broken = False
        self.served = False  # it was handed a test
        self._scale = 1  # tests the current test's process runs (see ``start_test``)
        self._ready: bool | None = None
        stdin = {**config, "fd": theirs.fileno(),
                 "limits": {"cpu_seconds": limits.cpu_seconds, "memory_mb": limits.memory_mb,
                            "wall_seconds": limits.wall_seconds, "slack_seconds": per_test}}
        spec = RunSpec(argv=argv, workdir=workdir,
                       limits=server_limits(limits, tests=tests, per_test=per_test),
                       stdin=json.dumps(stdin).encode(),
                       ro_binds={**ro_binds, str(pristine): PRISTINE},
                       pass_fds=(theirs.fileno(),), discard_workdir=True)
        self.future = pool.submit(_run_then_close, backend, spec, theirs)

    def ready(self, timeout: float) -> bool:
        """Whether the server started and is still usable (waits up to ``timeout`` for it)."""
        if self._ready is None:
            self._ready = self._expect("ready", timeout) is not None
        return bool(self._ready) and not self.broken

    def start_test(self, config: dict[str, Any], scale: int = 1) -> socket.socket:
        """Fork a process for the next test; returns the trusted side's end of its socket.
        ``scale``: tests that process runs (the test and those it replays first), each with
        the test's CPU and wall time."""
        self.served = True
        self._scale = scale
        trusted_end, student_end = socket.socketpair()
        try:
            self._send({"op": "test", "config": config, "scale": scale}, student_end.fileno())
        finally:
            student_end.close()  # the server holds it now (or nobody: the test sees EOF)
        return trusted_end

    def end_test(self) -> tuple[RunResult, str | None]:
        """Stop the current test's processes; how its student process ended, and the text of
        the evidence file it wrote when traced (untrusted: the caller checks it)."""
        self._send({"op": "end"})
        report = self._expect("exited", END_WAIT)
        self._ready = None  # the next test waits for the server's clean-up ("ready")
        limits = self.limits if self._scale == 1 else self.limits.with_(
            cpu_seconds=self.limits.cpu_seconds * self._scale,
            wall_seconds=self.limits.wall_seconds * self._scale)
        run = run_from_report(report, limits) if report is not None else None
        if run is not None and report is not None:
            return run, report["evidence"]
        self.broken = True
        try:  # the sandbox ended: the backend's verdict (time, memory...)
            return self.future.result(timeout=END_WAIT), None
        except TimeoutError:
            return _interfered("its sandbox stopped answering"), None

    def lost_at_start(self) -> RunResult:
        """How the student process of a test ended when the server never became ready: the
        sandbox's own result (the backend's verdict), once it is over."""
        self.broken = True
        self.ours.close()
        try:
            return self.future.result(timeout=END_WAIT)
        except TimeoutError:
            self.future.cancel()  # still queued behind a server that was given up
            return _interfered("its sandbox did not start")

    def release(self) -> None:
        """No more tests: the server sees EOF and leaves; ``close`` waits for it."""
        self.ours.close()

    def close(self) -> None:
        """No more tests: the server sees EOF and leaves (a stuck one is ended by its wall
        clock); waits for the run unless the server was given up."""
        self.ours.close()
        if not self.broken:
            self.future.result()
        else:
            self.future.cancel()  # a run not yet started never starts

    def _send(self, message: dict[str, Any], *fds: int) -> None:
        raw = json.dumps(message).encode()
        try:
            socket.send_fds(self.ours, [struct.pack(">I", len(raw)) + raw], list(fds))
        except OSError:
            self.broken = True

    def _expect(self, op: str, timeout: float) -> dict[str, Any] | None:
        if self.broken:
            return None
        self.peer.deadline = time.monotonic() + timeout
        try:
            message = self.peer.recv()
        except (ChannelClosed, ChannelTimeout, ProtocolError):
            message = None
        if message is None or message.get("op") != op:
            self.broken = True
            return None
        return message


def _run_then_close(backend: Backend, spec: RunSpec, sock: socket.socket) -> RunResult:
    try:
        return backend.run(spec)
    finally:
        sock.close()


def _interfered(why: str) -> RunResult:
    return RunResult(Verdict.RUNTIME_ERROR, None, None, b"", b"", 0.0, 0.0, 0,
                     message=f"Your program interfered with the test harness: {why}.")


def _int_or_none(value: object) -> bool:
    return value is None or (type(value) is int and -(1 << 31) <= value < (1 << 31))


def _number(value: object) -> bool:
    return type(value) in (int, float) and 0 <= value < 1e9  # type: ignore[operator]


def run_from_report(report: dict[str, Any], limits: Limits) -> RunResult | None:
    """How a test's student process ended, from the server's report; None when malformed.

    The verdict comes from the same policy as any run (``sandbox.verdicts.classify``), which
    never gives SANDBOX_ERROR: a lying server can change only how a lost test failed."""
    keys = {"op", "code", "signal", "cpu", "rss", "wall", "killed", "output_bytes", "tail",
            "evidence"}
    if set(report) != keys or not (
        _int_or_none(report["code"]) and _int_or_none(report["signal"])
        and all(_number(report[k]) for k in ("cpu", "rss", "wall", "output_bytes"))
        and report["killed"] in ("", "wall") and isinstance(report["tail"], str)
        and (report["evidence"] is None or isinstance(report["evidence"], str))
    ):
        return None
    code, sig = report["code"], report["signal"]
    if (code is None) == (sig is None):
        return None
    tail = report["tail"][-MAX_TAIL:].encode(errors="replace")
    verdict, message = classify(limits, report["killed"],
                                report["output_bytes"] > limits.output_bytes, code, sig,
                                float(report["cpu"]), int(report["rss"]), tail)
    return RunResult(verdict, code, sig, b"", tail, float(report["wall"]),
                     float(report["cpu"]), int(report["rss"]), message=message)


def boot_argv(boot: str) -> list[str]:
    # -S: no site (the student side needs only the standard library), 20 ms less per start
    return [sys.executable, "-I", "-S", "-c", boot.format("forkserver")]


__all__ = ["StudentServer", "boot_argv", "done", "run_from_report", "server_limits"]
