"""Entry point of the trusted sandbox: collect the tests, or run them one by one.

Configuration arrives as JSON on stdin (written by the runner, trusted). The runner is reached
only through the ``ctl`` socket, which no student process ever holds.

``collect`` imports the test file with a :class:`~.proxy.LazyModule` standing in for the student
module (no student process exists; the student's file is an empty placeholder) and reports the
node ids.

``run`` is a zygote: it imports pytest once and then, for each node id, asks the runner for a
fresh student process (``start``; the runner answers with one end of a socketpair and a memfd
holding the student's source, both passed over ``ctl`` with SCM_RIGHTS), writes the source to
``/work/<module>.py`` read-only, forks a child that runs pytest on that single test with the
student module's import redirected to a :class:`~.proxy.StudentModule` wired to the socket
(``redirect.py``), and reports the child's summary (``result``). The parent enforces the
per-test deadline by killing the child: a test that hangs in test code, or a student that floods
the channel, costs only that test.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import tempfile
import time
import traceback
from typing import Any

import pytest

from . import redirect
from .ambient import Tracker
from .codec import HelperRegistry
from .plugin import CollectPlugin, RunPlugin
from .session import Session
from .wire import START_SLACK, Peer

KILL_GRACE = 1.5  # seconds after the test deadline before the child is killed outright
MAX_CHILD_REPORT = 1 << 20
MAX_SOURCE = 4 << 20  # bytes of the student's source the runner may send
# Imported once here, not in every forked child: what the redirects and mirrors use.
PRELOAD = ("dataclasses", "inspect", "linecache", "random", "runpy", "subprocess", "time",
           "importlib.util", "locale", "ast")


def pytest_args(test_file: str) -> list[str]:
    return [
        # No ini file of the package applies (-c /dev/null): no addopts, no changed discovery.
        # No terminal plugin: nobody reads its output, and it formats long tracebacks for it.
        "-c", os.devnull, "--rootdir", "/work",
        "-p", "no:cacheprovider", "-p", "no:terminal", "-W", "ignore", test_file,
    ]


def main() -> None:
    config: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    ctl_sock = socket.socket(fileno=config["ctl_fd"])
    ctl = Peer(ctl_sock)
    os.chdir("/work")
    # The tests are read-only; cache their assertion-rewritten bytecode in this sandbox's
    # private /tmp, so only the first test of a run pays for the rewrite.
    sys.pycache_prefix = tempfile.mkdtemp(prefix="pycache-")
    sys.dont_write_bytecode = False
    try:
        if config["mode"] == "collect":
            _collect(config, ctl)
        else:
            _serve(config, ctl, ctl_sock)
    except BaseException:
        ctl.send({"op": "fatal", "output": traceback.format_exc()[-8000:]})
        raise


def _collect(config: dict[str, Any], ctl: Peer) -> None:
    redirect.install_collecting(config["module"])
    captured = tempfile.TemporaryFile()
    os.dup2(captured.fileno(), 1)
    os.dup2(captured.fileno(), 2)
    plugin = CollectPlugin()
    code = int(pytest.main(["--collect-only", *pytest_args(config["test_file"])],
                           plugins=[plugin]))
    if plugin.errors or code not in (0, 5):  # 5: no tests collected
        captured.seek(0)
        text = "\n".join(plugin.errors) or captured.read()[-8000:].decode(errors="replace")
        ctl.send({"op": "collect_error", "output": text or f"pytest exited with code {code}"})
    else:
        ctl.send({"op": "collected", "nodeids": plugin.nodeids})


def _serve(config: dict[str, Any], ctl: Peer, ctl_sock: socket.socket) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    _preload_pytest()
    _prepare_config(pytest_args(config["test_file"]))
    # What is loaded now is shared by every child: out of the collector's sight, so that the
    # gc.collect() pytest runs at every session's end (unraisableexception) walks only what the
    # test itself made (it walked all of pytest in each child: ~20 ms a test), and no page
    # of it is copied on write by a collection.
    gc.freeze()
    for index, nodeid in enumerate(config["nodeids"]):
        ctl.send({"op": "start", "index": index, "nodeid": nodeid})
        data, fds, _, _ = socket.recv_fds(ctl_sock, 1, 2)
        if not data or not fds:
            return  # the runner stopped
        _write_source(config["module"], fds[1] if len(fds) > 1 else None)
        result = _run_one(config, nodeid, fds[0], ctl_sock)
        ctl.send({"op": "result", "index": index, "nodeid": nodeid, **result})


def _preload_pytest() -> None:
    """Import pytest's own plugins once here, not in every forked child."""
    from _pytest.config import default_plugins

    for name in default_plugins:
        with contextlib.suppress(ImportError):
            importlib.import_module(f"_pytest.{name}")
    for name in PRELOAD:
        importlib.import_module(name)


def _prepare_config(args: list[str]) -> None:
    """Build pytest's plugin manager and ``Config`` (every default plugin imported and
    registered) once here; each forked child takes its own copy instead of building one.

    ``pytest.main`` in the child gets it from ``get_config``, exactly as if it had built it:
    the child registers its own plugin and parses the same ``args`` on it. A child asking for a
    config with other arguments (nothing here does) builds its own."""
    import _pytest.config

    build = _pytest.config.get_config
    prepared = [build(list(args), prog="pytest.main()")]

    def get_config(arguments: Any = None, plugins: Any = None, *, prog: Any = None) -> Any:
        if prepared and list(arguments or ()) == args and prog == "pytest.main()":
            return prepared.pop()
        return build(arguments, plugins, prog=prog)

    _pytest.config.get_config = get_config  # type: ignore[assignment]


def _write_source(module: str, fd: int | None) -> None:
    """The student's source for the next test, as a read-only file (text for the tests to
    read: nothing here imports or runs it, see ``redirect.py``)."""
    data = b""
    if fd is not None:
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_SOURCE)
    path = redirect.student_path(module)
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, 0o600)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o444)


def _run_one(config: dict[str, Any], nodeid: str, fd: int,
             ctl_sock: socket.socket) -> dict[str, Any]:
    wall = float(config["wall_seconds"])
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read_end)
            ctl_sock.close()
            _child(config, nodeid, fd, write_end, started + wall + START_SLACK)
        except BaseException:
            report = {"result": {"outcome": "failed", "reason": "crash",
                                 "output": traceback.format_exc()[-4000:]}}
            with contextlib.suppress(BaseException):
                os.write(write_end, json.dumps(report).encode() + b"\n")
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(fd)  # the child holds it now; our copy would keep the student from seeing EOF
    deadline = started + wall + START_SLACK
    buffer = bytearray()
    result: dict[str, Any] | None = None
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            if not select.select([read_end], [], [], left)[0]:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            if len(buffer) > MAX_CHILD_REPORT:
                os.kill(pid, signal.SIGKILL)
                break
            while b"\n" in buffer:
                line, _, rest = bytes(buffer).partition(b"\n")
                buffer[:] = rest
                message = json.loads(line)
                if message.get("ready"):  # the test started, or the student said hello
                    deadline = time.monotonic() + wall + KILL_GRACE
                elif isinstance(message.get("result"), dict):
                    result = message["result"]
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    seconds = round(time.monotonic() - started, 4)
    if timed_out:
        result = {"outcome": "failed", "reason": "timeout", "output": ""}
    elif result is None:
        why = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit code {os.waitstatus_to_exitcode(status)}")
        result = {"outcome": "failed", "reason": "crash",
                  "output": f"the test process ended without a result ({why})"}
    return {**result, "seconds": seconds}


def _child(config: dict[str, Any], nodeid: str, fd: int, report: int,
           hello_deadline: float) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    session = Session(Peer(socket.socket(fileno=fd)), HelperRegistry(config["helpers"]))

    def ready() -> None:
        os.write(report, b'{"ready": true}\n')

    def give_up() -> None:
        # The test cannot pass any more (the student process is gone, lied, or time is up):
        # report now instead of letting pytest format a traceback nobody will read.
        os.write(report, json.dumps({"result": plugin.result()}).encode() + b"\n")
        os._exit(0)

    session.start_lazily(hello_deadline, float(config["wall_seconds"]), ready)
    session.on_broken = give_up
    session.ambient = Tracker()
    redirect.install(session, config["module"])
    plugin = RunPlugin(nodeid, session, on_start=ready)
    pytest.main(pytest_args(config["test_file"]), plugins=[plugin])
    os.write(report, json.dumps({"result": plugin.result()}).encode() + b"\n")


__all__ = ["main"]
