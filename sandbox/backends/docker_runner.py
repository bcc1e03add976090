"""The host's end of a session container's runner (``docker_runner_agent.py``): one exec that
serves every later run of the submission in that container, instead of one exec per run.

A ``docker exec`` costs ~80 ms of CPU in the engine here (runc, the shim) whatever it runs; a
submission's build, io runs and the build's copy back were one exec each. The runner is one
exec, started on a session container's first run; each run is then a request over that exec's
stdin and its framed stdout. What it sends back is read as the exec path reads a program's
streams: capped, under the host's own deadline, never trusted (see the agent's docstring).
"""

from __future__ import annotations

import functools
import json
import select
import socket
import struct
import time
from pathlib import Path
from typing import Any

from sandbox.harness.agent import guard
from sandbox.types import SandboxError

AGENT = Path(__file__).with_name("docker_runner_agent.py")
# guard.py's text, then the runner's, run in one namespace (the image has no copy of either).
BOOT = ("import sys\nspace = {'__name__': 'grader_runner'}\n"
        "exec(compile(sys.argv[1], 'guard.py', 'exec'), space)\n"
        "exec(compile(sys.argv[2], 'docker_runner_agent.py', 'exec'), space)\n"
        "space['main']()\n")
HELLO_SECONDS = 10.0  # the runner's start (an exec on a loaded engine has taken seconds)
MAX_ERR = 64 * 1024  # bytes of the runner's own stderr kept for the log
RUNNER_MEMORY_MB = 24  # the runner's interpreter, beside the run's programs in the cgroup
RUNNER_PROCESSES = 1


class RunnerError(SandboxError):
    """The runner broke the protocol, said too much, or went away."""


class RunnerTimeout(RunnerError):
    """No answer before the deadline."""


@functools.cache
def runner_argv() -> list[str]:
    """The runner's command line: the two sources read once per process, not per container."""
    return ["python3", "-I", "-S", "-c", BOOT, Path(guard.__file__).read_text(),
            AGENT.read_text()]


class Runner:
    """One container's runner: requests one at a time, answers demultiplexed from Docker's
    frames (stdout: messages; stderr: the runner's own complaints, kept for the log)."""

    def __init__(self, api: Any, container_id: str, user: str) -> None:
        from docker.errors import DockerException

        try:
            exec_id = api.exec_create(container_id, runner_argv(), stdin=True, stdout=True,
                                      stderr=True, user=user, environment={},
                                      workdir="/work")["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except DockerException as exc:
            raise RunnerError(f"the sandbox runner did not start: {exc}") from exc
        self.raw: socket.socket = getattr(sock, "_sock", sock)
        self._frames = bytearray()  # Docker's framed stream, not yet split
        self._out = bytearray()  # the runner's stdout: messages
        self.err = bytearray()
        self.closed = False
        self._limit = 1 << 20  # bytes of messages held at most (set per request)
        try:
            hello, _ = self._recv(time.monotonic() + HELLO_SECONDS, 0)
        except RunnerError:
            self.close()
            raise
        if hello.get("op") != "hello":
            self.close()
            raise RunnerError("the sandbox runner did not say hello")

    def request(self, header: dict[str, Any], *payloads: bytes, timeout: float,
                cap: int) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request; its answer, whose payloads may hold ``cap`` bytes in all."""
        if self.closed:
            raise RunnerError("the sandbox runner is gone")
        deadline = time.monotonic() + timeout
        self._limit = cap + (2 << 20)
        raw = json.dumps({**header, "payload": [len(p) for p in payloads]},
                         separators=(",", ":")).encode()
        try:
            self._send(b"".join([struct.pack(">I", len(raw)), raw, *payloads]), deadline)
            return self._recv(deadline, cap)
        except RunnerError:
            self.close()
            raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.raw.close()
            except OSError:
                pass

    # -- the stream ---------------------------------------------------------------------------

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        self.raw.setblocking(False)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunnerTimeout("the sandbox runner did not take the request in time")
            readable, writable, _ = select.select([self.raw], [self.raw], [], left)
            if readable:  # it talks before it read the request: drain, so it never blocks
                self._fill()
            if writable:
                try:
                    sent = self.raw.send(view[:1 << 20])
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    raise RunnerError(f"the sandbox runner went away: {exc}") from exc
                view = view[sent:]

    def _fill(self) -> None:
        try:
            chunk = self.raw.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            raise RunnerError(f"the sandbox runner went away: {exc}") from exc
        if not chunk:
            raise RunnerError("the sandbox runner ended" + self._said())
        self._frames += chunk
        if len(self._frames) > self._limit:
            raise RunnerError("the sandbox runner sent more than it may")
        while len(self._frames) >= 8:
            stream, size = self._frames[0], struct.unpack(">I", self._frames[4:8])[0]
            if len(self._frames) < 8 + size:
                break
            if stream == 1:
                self._out += self._frames[8:8 + size]
                if len(self._out) > self._limit:
                    raise RunnerError("the sandbox runner sent more than it may")
            elif len(self.err) < MAX_ERR:
                self.err += self._frames[8:8 + size][:MAX_ERR - len(self.err)]
            del self._frames[:8 + size]

    def _said(self) -> str:
        text = bytes(self.err[-500:]).decode(errors="replace").strip()
        return f": {text}" if text else ""

    def _recv(self, deadline: float, cap: int) -> tuple[dict[str, Any], list[bytes]]:
        self.raw.setblocking(False)
        header: dict[str, Any] | None = None
        offset = 0
        while True:
            if header is None and len(self._out) >= 4:
                size = struct.unpack(">I", self._out[:4])[0]
                if size > 1 << 20:
                    raise RunnerError("the sandbox runner sent an oversized header")
                if len(self._out) >= 4 + size:
                    try:
                        header = json.loads(bytes(self._out[4:4 + size]))
                    except ValueError as exc:
                        raise RunnerError("the sandbox runner sent a malformed header") from exc
                    lengths = header.get("payload") if isinstance(header, dict) else None
                    if not isinstance(lengths, list) or not all(
                            isinstance(n, int) and n >= 0 for n in lengths):
                        raise RunnerError("the sandbox runner sent a malformed header")
                    if sum(lengths) > cap:
                        raise RunnerError("the sandbox runner sent more than it may")
                    offset = 4 + size
            if header is not None and len(self._out) >= offset + sum(header["payload"]):
                payloads = []
                for length in header["payload"]:
                    payloads.append(bytes(self._out[offset:offset + length]))
                    offset += length
                del self._out[:offset]
                return header, payloads
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunnerTimeout("the sandbox runner did not answer in time")
            if select.select([self.raw], [], [], left)[0]:
                self._fill()


__all__ = ["RUNNER_MEMORY_MB", "RUNNER_PROCESSES", "Runner", "RunnerError", "RunnerTimeout",
           "runner_argv"]
