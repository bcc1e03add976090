"""Entry point of the trusted sandbox: collect the tests, or run them one by one.

Configuration arrives as JSON on stdin (written by the runner, trusted). The runner is reached
only through the ``ctl`` socket, which no student process ever holds.

``collect`` imports the test file with a :class:`~.proxy.LazyModule` standing in for the student
module (no student process exists; the student's file is an empty placeholder) and reports the
node ids, and what the tests' processes may share (``collecting.py``).

``run`` is a zygote. It starts one pytest session on the test file (configuration, plugins,
the package's initial ``conftest.py`` files, the fixture manager: what costs most in a pytest
run) and, where pytest would collect (or once it has collected, below), serves the tests one
by one: for each node id it asks the
runner for a fresh student process (``start``; the runner answers with one end of a socketpair
and a memfd holding the student's source, both passed over ``ctl`` with SCM_RIGHTS), writes the
source to ``/work/<module>.py`` read-only, and forks a child. The child goes on with the
session from there: it collects the test file with the student module's import redirected to a
:class:`~.proxy.StudentModule` wired to the socket (``redirect.py``), runs that single test and
reports its summary, which the parent passes on (``result``). Every child forks from the same
state, which no test has touched: nothing carries over from one test to the next. The parent
enforces the per-test deadline by killing the child: a test that hangs in test code, or a
student that floods the channel, costs only that test.

With ``replay`` (the runner found set-up wider than a test that makes student objects:
``Job._replays``) a child runs the tests collected before its own first, in order, in its
session and student process, and reports only its own (``RunPlugin``): what such set-up holds
is then what plain pytest would have given that test. Each test it runs gets the test's wall
time (``Session.next_test``; ``ready`` restarts this side's deadline too).

How much is shared is what collecting found (``collect`` reports it with the node ids):

* ``shared_start``: starting the session never used the student's module (no ``conftest.py``
  or plugin imports it or opens its file before the tests are collected). Otherwise each child
  runs a whole pytest session of its own, after the parent has prepared pytest's ``Config``.
* ``shared_collect``: besides, the test modules only *bind* the module and its names when they
  are imported (``import solution``, ``from solution import add``: each stand-in is held by the
  globals of the tests' modules and nothing else, and the student's file is not read). Then the
  parent also collects, once, with stand-ins (:class:`~.proxy.LazyModule`), and each child
  imports the student's module in its student process and puts it and its names where the
  stand-ins are (``_bind``), which is what a fresh import of the test module would have given
  it. A module that decides something from the student's module at import (a ``hasattr``, a
  table of its functions, a parametrize value: the upload check names those to the teacher) is
  collected again in each child.
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
from typing import Any, NoReturn

import pytest

from . import collecting, redirect, shared, warm
from .ambient import Tracker
from .codec import HelperRegistry
from .plugin import RunPlugin
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
        "-p", "no:cacheprovider", "-p", "no:terminal", "-W", "ignore",
        # tmp_path and friends under the folder mirrored into the student process.
        "--basetemp", shared.ROOT, test_file,
    ]


def main() -> None:
    config: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    pool = None if config.get("pool_fd") is None else socket.socket(fileno=config["pool_fd"])
    ctl_sock = pool if pool is not None else socket.socket(fileno=config["ctl_fd"])
    ctl = Peer(ctl_sock)  # kept warm (``warm.py``): each job brings its own
    os.chdir("/work")
    # The tests are read-only; cache their assertion-rewritten bytecode in this sandbox's
    # private /tmp, so only the first test of a run pays for the rewrite.
    sys.pycache_prefix = tempfile.mkdtemp(prefix="pycache-")
    sys.dont_write_bytecode = False
    try:
        if config["mode"] == "collect":
            collecting.collect(config, ctl, pytest_args(config["test_file"]))
        else:
            _serve(config, ctl, ctl_sock, pool)
    except BaseException:
        if pool is not None:
            warm.send(pool, {"op": "fatal", "output": traceback.format_exc()[-8000:]})
        else:
            ctl.send({"op": "fatal", "output": traceback.format_exc()[-8000:]})
        raise


def _serve(config: dict[str, Any], ctl: Peer, ctl_sock: socket.socket,
           pool: socket.socket | None) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if pool is not None:  # kept warm: nobody reads this run's stderr until it ends
        os.dup2(devnull, 2)
    _preload_pytest()
    args = pytest_args(config["test_file"])
    zygote = Zygote(config, ctl, ctl_sock, pool)
    if not config.get("shared_start"):
        _prepare_config(args)
        # What is loaded now is shared by every child: out of the collector's sight, so that
        # the gc.collect() pytest runs at every session's end (unraisableexception) walks only
        # what the test itself made, and no page of it is copied on write by a collection.
        gc.freeze()
        zygote.serve_all(None)
        os._exit(0)
    os.dup2(devnull, 2)  # before pytest captures the fds: the children's captures stay theirs
    redirect.install_collecting(config["module"])  # never the student's code in this process
    _write_source(config["module"], None)  # the file exists, empty, as when tests were listed
    try:
        pytest.main(args, plugins=[zygote])
    except BaseException:
        if zygote.child is None:
            raise
        zygote.child.leave(traceback.format_exc())
    if zygote.child is not None:
        zygote.child.leave()


class Zygote:
    """Serves the node ids of ``config`` one by one, each in a forked child."""

    def __init__(self, config: dict[str, Any], ctl: Peer, ctl_sock: socket.socket,
                 pool: socket.socket | None = None) -> None:
        self.config, self.ctl, self.ctl_sock, self.pool = config, ctl, ctl_sock, pool
        self.child: Child | None = None  # set in a forked child
        self.collect_errors: list[str] = []  # of a collection made here, for the children
        self.namespaces: list[dict[str, Any]] = []  # the tests' modules it left (for bind)
        self.relay = Relay()  # the children's hooks in a shared session

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        collected = bool(self.config.get("shared_collect"))
        if collected:
            session.perform_collect()  # with stand-ins (see collecting.only_bound)
            self.namespaces = collecting.tests_namespaces()
        # Where a child would have registered its plugins: after what collection registered
        # (conftests) when collected here, before it when each child collects.
        session.config.pluginmanager.register(self.relay, "grader-relay")
        gc.freeze()  # the session as started, shared by every child (see _serve)
        if self.serve_all(session) is None:
            return True if collected else None  # a child: it (collects and) runs its test
        os._exit(0)  # every result is sent: nothing of this session is left to do

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and self.child is None:
            self.collect_errors.append(report.longreprtext)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        return None if self.child is not None else True  # the parent runs no test itself

    def serve_all(self, shared: pytest.Session | None) -> bool | None:
        """``serve`` this run's tests, or (kept warm) every job's in a process of its own."""
        if self.pool is None:
            return self.serve(shared)
        module = self.config["module"]
        warm.loop(self, shared, self.pool, lambda: _write_source(module, None))
        return None  # a test's child

    def serve(self, shared: pytest.Session | None) -> bool | None:
        """True once every test ran (the parent); None in a child that goes on with ``shared``."""
        ctl, ctl_sock, config = self.ctl, self.ctl_sock, self.config
        for index, nodeid in enumerate(config["nodeids"]):
            ctl.send({"op": "start", "index": index, "nodeid": nodeid})
            data, fds, _, _ = socket.recv_fds(ctl_sock, 1, 2)
            if not data or not fds:
                break  # the runner stopped
            _write_source(config["module"], fds[1] if len(fds) > 1 else None)
            result = self._run_one(nodeid, fds[0], shared)
            if result is None:
                return None
            ctl.send({"op": "result", "index": index, "nodeid": nodeid, **result})
        return True

    def _run_one(self, nodeid: str, fd: int,
                 shared: pytest.Session | None) -> dict[str, Any] | None:
        config = self.config
        wall = float(config["wall_seconds"])
        read_end, write_end = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self._in_child(nodeid, fd, read_end, write_end, started + wall + START_SLACK, shared)
            return None  # in a child that goes on with the shared session
        os.close(write_end)
        os.close(fd)  # the child holds it now; our copy would keep the student from seeing EOF
        return _watch(pid, read_end, started, wall)

    def _in_child(self, nodeid: str, fd: int, read_end: int, write_end: int,
                  hello_deadline: float, shared: pytest.Session | None) -> None:
        try:
            os.close(read_end)
            self.ctl_sock.close()
            if shared is None:
                os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            child = self.child = Child(self.config, nodeid, fd, write_end, hello_deadline)
            if shared is None:
                pytest.main(pytest_args(self.config["test_file"]), plugins=[child.plugin, child])
                child.leave()
            self.relay.plugin, self.relay.child = child.plugin, child
            child.plugin.pytest_configure(shared.config)  # what registering it used to call
            capture = shared.config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.read_global_capture()  # what a killed earlier test left: not this one's
            if self.config.get("shared_collect"):
                self._select(shared, child.plugin)
        except BaseException:
            report = {"result": {"outcome": "failed", "reason": "crash",
                                 "output": traceback.format_exc()[-4000:]}}
            with contextlib.suppress(BaseException):
                os.write(write_end, json.dumps(report).encode() + b"\n")
            os._exit(0)
        return None

    def _select(self, shared: pytest.Session, plugin: RunPlugin) -> None:
        """The child's one test, of those collected here, with the student's module bound."""
        items = list(shared.items)
        try:
            collecting.bind(self.config["module"], self.namespaces)
        except Exception as exc:  # as the tests' import statement would have failed
            plugin.collect_errors.append(f"{type(exc).__name__} while importing the tests: {exc}")
            items = []
        plugin.pytest_collection_modifyitems(shared.config, items)  # as if collected here
        if not plugin.found:
            plugin.collect_errors.extend(self.collect_errors)
        shared.items[:] = items


class Relay:
    """A shared session's hooks of each test's :class:`RunPlugin` and :class:`Child`,
    registered once where the children are forked from, not in each child: registering a
    plugin in a child cost a test ~3 ms (pytest scans it for fixtures and calls its
    ``pytest_configure``, in a process whose every touched page is copied on write). Until a
    child sets ``plugin`` and ``child``, it does nothing."""

    def __init__(self) -> None:
        self.plugin: RunPlugin | None = None
        self.child: Child | None = None

    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if self.plugin is not None:  # a child that collects (not collected here)
            self.plugin.pytest_collection_modifyitems(config, items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if self.plugin is not None:
            self.plugin.pytest_collectreport(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.plugin is not None:
            self.plugin.pytest_runtest_setup(item)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.plugin is not None:
            self.plugin.pytest_runtest_logreport(report)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if self.child is not None:
            self.child.pytest_runtest_logfinish(nodeid)


class Child:
    """One test's process: its session to the student process, its plugin, its report pipe."""

    def __init__(self, config: dict[str, Any], nodeid: str, fd: int, report: int,
                 hello_deadline: float) -> None:
        self.report = report
        session = Session(Peer(socket.socket(fileno=fd)), HelperRegistry(config["helpers"]))
        session.start_lazily(hello_deadline, float(config["wall_seconds"]), self.ready)
        # The test cannot pass any more (the student process is gone, lied, or time is up):
        # report now instead of letting pytest format a traceback nobody will read.
        session.on_broken = self.leave
        session.ambient = Tracker()
        # This test's temporary folders are mirrored into the student process with every
        # message; what an earlier test left there is not sent along (pytest removes it when
        # this test first asks for tmp_path, or keeps it when this process's session had
        # made the folder before this test: either way as under plain pytest).
        session.files = shared.Mirror()
        session.files.baseline()
        redirect.install(session, config["module"])
        self.session = session
        self.cpu = config.get("cpu_seconds")
        self.plugin = RunPlugin(nodeid, session, on_start=self.ready,
                                replay=bool(config.get("replay")))

    def ready(self) -> None:  # a test started (one replayed too), or the student said hello
        if self.plugin.replay:
            self.session.next_test(self.cpu, own=self.plugin.running == self.plugin.nodeid)
        os.write(self.report, b'{"ready": true}\n')

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        # Every report of the test is in and its fixtures, session-scoped ones included, are
        # torn down (it is the session's last item): the rest of the session is for nobody.
        # A replayed earlier test (``RunPlugin.replay``) is not the end.
        if nodeid == self.plugin.nodeid:
            self.leave()

    def leave(self, crash: str | None = None) -> NoReturn:
        result = (self.plugin.result() if crash is None
                  else {"outcome": "failed", "reason": "crash", "output": crash[-4000:]})
        with contextlib.suppress(BaseException):
            os.write(self.report, json.dumps({"result": result}).encode() + b"\n")
        os._exit(0)


def _watch(pid: int, read_end: int, started: float, wall: float) -> dict[str, Any]:
    """The child's result, or how it ended: killed at its deadline, or when it floods us."""
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


__all__ = ["main"]
