"""Unit tests of the harness pieces that need no sandbox: codec, proxies, verdicts, runner.

The proxy tests run the real student agent in a thread, connected by a socketpair; the runner
tests use a scripted stand-in for the trusted process to feed it malformed and forged reports.
"""

from __future__ import annotations

import collections
import collections.abc
import copy
import json
import math
import pickle
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from sandbox.harness import run_pytest_file
from sandbox.harness.agent.codec import Encoder, HelperRegistry
from sandbox.harness.agent.decoder import Decoder
from sandbox.harness.agent.errors import Refused
from sandbox.harness.agent.proxy import RemoteObject, StudentModule, state
from sandbox.harness.agent.session import Session, StudentException, StudentLost
from sandbox.harness.agent.student import Agent
from sandbox.harness.agent.wire import MAX_FRAME, Peer, ProtocolError, loads
from sandbox.harness.results import case_from_report, case_when_trusted_died
from sandbox.types import Limits, RunResult, RunSpec, Verdict

NO_HELPERS = HelperRegistry([])


def _no_tags(tag: dict[str, Any]) -> object:
    raise ProtocolError(f"tag {tag}")


def _refuse(x: object) -> dict[str, Any]:
    raise TypeError(type(x).__name__)


def roundtrip(value: object, helpers: HelperRegistry = NO_HELPERS) -> Any:
    graph, _ = Encoder(helpers, _refuse).encode(value)
    wire = json.loads(json.dumps(graph))
    return Decoder(helpers, _no_tags).decode(wire)[0]


# -- codec ----------------------------------------------------------------------------------


def test_plain_values_survive_with_cycles_and_shared_references():
    shared = [1, 2]
    cyclic: list[Any] = ["x"]
    cyclic.append(cyclic)
    value = {"a": shared, "b": shared, "c": cyclic, 7: (1, 2.5, None, True), "big": -(2**100),
             "inf": math.inf, "bytes": b"\x00\xff", "set": {1, 2}, "fs": frozenset({3})}
    back = roundtrip(value)
    assert back["a"] is back["b"] and back["a"] == [1, 2]
    assert back["c"][1] is back["c"]
    assert back[7] == (1, 2.5, None, True) and back["big"] == -(2**100)
    assert back["inf"] == math.inf and back["bytes"] == b"\x00\xff"
    assert back["set"] == {1, 2} and back["fs"] == frozenset({3})


def test_deep_nesting_needs_no_recursion():
    deep: Any = ()
    for i in range(20_000):
        deep = (i, deep)
    back = roundtrip(deep)
    for i in reversed(range(20_000)):
        assert back[0] == i
        back = back[1]


def test_builtin_subclasses_arrive_as_plain_values():
    class LyingInt(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    class LyingList(list):  # type: ignore[type-arg]
        def __eq__(self, other: object) -> bool:
            return True

    back = roundtrip([LyingInt(3), LyingList([1])])
    assert type(back[0]) is int and back[0] == 3 and back[0] != 4
    assert type(back[1]) is list and back[1] != [2]


def test_standard_collections_and_type_hints_arrive_as_themselves():
    point_class = collections.namedtuple("Point", "x y")
    factory_less = collections.defaultdict(None, {"a": 1})
    def builtin(x: object) -> dict[str, Any]:  # how both sides send a builtin class
        return {"b": x.__name__}  # type: ignore[attr-defined]

    def by_name(tag: dict[str, Any]) -> object:
        return {"int": int, "list": list, "tuple": tuple, "dict": dict, "str": str}[tag["b"]]

    graph, _ = Encoder(NO_HELPERS, builtin).encode([
        collections.Counter("aab"), collections.OrderedDict(b=1, a=2), factory_less,
        point_class(1, 2), list[int], int | None, tuple[int, ...], dict[str, list[int]]])
    back = Decoder(NO_HELPERS, by_name).decode(json.loads(json.dumps(graph)))[0]
    counts, ordered, default, point, *hints = back
    assert type(counts) is collections.Counter and counts == {"a": 2, "b": 1}
    assert type(ordered) is collections.OrderedDict and list(ordered) == ["b", "a"]
    assert type(default) is collections.defaultdict and default.default_factory is None
    assert point == (1, 2) and point.y == 2 and type(point).__name__ == "Point"
    assert hints == [list[int], int | None, tuple[int, ...], dict[str, list[int]]]
    # A namedtuple class with methods of its own is not one to make again: a plain tuple.
    class Named(collections.namedtuple("Named", "a")):
        def twice(self) -> int:
            return 2 * self.a

    assert type(roundtrip(Named(1))) is tuple


def test_replies_update_the_senders_objects_in_place():
    items, table, seen = [3, 1], {"k": 1}, {1}
    graph, originals = Encoder(NO_HELPERS, _refuse).encode([items, table, seen])
    received, objs = Decoder(NO_HELPERS, _no_tags).decode(json.loads(json.dumps(graph)))
    received[0].sort()
    received[1]["new"] = 2
    received[2].add(9)
    sources = {id(o): i for i, o in enumerate(objs)}
    reply, _ = Encoder(NO_HELPERS, _refuse, sources).encode(received)
    Decoder(NO_HELPERS, _no_tags, originals).decode(json.loads(json.dumps(reply)))
    assert items == [1, 3] and table == {"k": 1, "new": 2} and seen == {1, 9}


@pytest.mark.parametrize("graph", [
    {"v": {"r": 5}, "o": []},
    {"v": {"zz": 1}, "o": []},
    {"v": [1, 2], "o": []},
    {"v": {"r": 0}, "o": [{"t": "obj", "c": "os:_wrap_close", "v": {}}]},
    {"v": {"r": 0}, "o": [{"t": "tuple", "v": [{"r": 0}]}]},
    {"v": {"r": 0}, "o": [{"t": "list", "v": [], "s": 0}]},
    {"v": {"r": 0}, "o": [{"t": "dict", "v": [[[1], 2]]}]},
    {"v": {"i": "xyz"}, "o": []},
    {"v": None},
    {"v": {"r": 0}, "o": [{"t": "dict", "v": [], "k": "evil"}]},
    {"v": {"r": 0}, "o": [{"t": "dict", "v": [], "k": "default", "f": 5}]},
    {"v": {"r": 0}, "o": [{"t": "ntuple", "v": [1], "f": ["class"], "n": "P", "m": "m"}]},
    {"v": {"r": 0}, "o": [{"t": "ntuple", "v": [1], "f": ["a"], "n": "import os", "m": "m"}]},
    {"v": {"r": 0}, "o": [{"t": "alias", "v": [1, None], "e": []}]},
    {"v": {"r": 0}, "o": [{"t": "union", "v": [None], "e": []}]},
    {"v": {"r": 0}, "o": [{"t": "union", "v": ["x", None], "e": []}]},
])
def test_malformed_graphs_are_refused(graph):
    with pytest.raises(ProtocolError):
        Decoder(NO_HELPERS, _no_tags).decode(graph)


def test_helper_instances_travel_by_value_but_cannot_hide_methods(tmp_path, monkeypatch):
    (tmp_path / "unit_helper_graph.py").write_text(textwrap.dedent("""
        class Node:
            def __init__(self, value):
                self.value = value
                self.next = None

            def equals(self, other):
                return self.value == other.value
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import unit_helper_graph

    helpers = HelperRegistry(["unit_helper_graph"])
    a, b = unit_helper_graph.Node(1), unit_helper_graph.Node(2)
    a.next, b.next = b, a
    back = roundtrip(a, helpers)
    assert type(back) is unit_helper_graph.Node and back.next.next is back
    hiding = {"v": {"r": 0}, "o": [{"t": "obj", "c": "unit_helper_graph:Node",
                                    "v": {"value": 1, "equals": True}}]}
    with pytest.raises(ProtocolError, match="hide"):
        Decoder(helpers, _no_tags).decode(hiding)
    dunder = {"v": {"r": 0}, "o": [{"t": "obj", "c": "unit_helper_graph:Node",
                                    "v": {"__class__": 1}}]}
    with pytest.raises(ProtocolError):
        Decoder(helpers, _no_tags).decode(dunder)


def test_frames_are_strict_json_and_size_capped():
    with pytest.raises(ProtocolError):
        loads(b'{"v": NaN}')
    with pytest.raises(ProtocolError):
        loads(b"[1]")
    a, b = socket.socketpair()
    with a, b:
        a.sendall((MAX_FRAME + 1).to_bytes(4, "big"))
        with pytest.raises(ProtocolError):
            Peer(b).recv()


# -- session and proxies against the real student agent --------------------------------------


@pytest.fixture
def student(tmp_path, monkeypatch) -> Iterator[StudentModule]:
    """``solution`` as the tests see it, served by the student agent in a thread."""
    (tmp_path / "unit_solution.py").write_text(textwrap.dedent("""
        class Stack:
            def __init__(self):
                self.items = []
            def push(self, x):
                self.items.append(x)
            def pop(self):
                if not self.items:
                    raise IndexError("pop from empty stack")
                return self.items.pop()

        class MyError(ValueError):
            pass

        class AlwaysEqual:
            def __eq__(self, other):
                return True

        def fail():
            raise MyError("bad")

        def extend(items, extra):
            items.extend(extra)

        def count(n):
            yield from range(n)

        def apply(f, x):
            return f(x)

        def liar():
            return AlwaysEqual()

        def leave():
            raise SystemExit(3)

        def shout():
            print("HELLO")

        class Outer:
            "Holds a class."
            class Inner:
                pass

        Odd = type("not a name", (), {})
        Odd.__module__ = 7

        def odd():
            return Odd()
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    ours, theirs = socket.socketpair()
    agent = Agent(Peer(theirs), "unit_solution", NO_HELPERS)
    thread = threading.Thread(target=agent.serve, daemon=True)
    thread.start()
    session = Session(Peer(ours), NO_HELPERS)
    session.hello(deadline=time.monotonic() + 30)
    assert session.broken is None
    yield StudentModule("unit_solution", session)
    ours.close()
    thread.join(timeout=5)
    theirs.close()


def test_proxies_behave_like_the_student_objects(student, capsys):
    s = student.Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2 and s.items == [1]
    with pytest.raises(IndexError, match="empty"):
        student.Stack().pop()
    with pytest.raises(ValueError) as info:
        student.fail()
    assert isinstance(info.value, StudentException) and isinstance(info.value, student.MyError)
    items = [1]
    assert student.extend(items, [2, 3]) is None and items == [1, 2, 3]
    assert list(student.count(3)) == [0, 1, 2]
    assert student.apply(lambda x: x * 10, 4) == 40
    student.shout()
    assert capsys.readouterr().out == "HELLO\n"
    with pytest.raises(SystemExit):
        student.leave()


def test_an_oversized_callback_result_is_the_student_codes_error_not_the_tests(student):
    # Were it raised in the test as ValueError, pytest.raises(ValueError) would accept it.
    with pytest.raises(RuntimeError, match="exceeds"):
        student.apply(lambda x: "y" * (9 << 20), 1)


def test_a_lying_eq_never_decides_a_comparison(student):
    liar = student.liar()
    assert isinstance(liar, RemoteObject)
    assert not (liar == 5) and liar != 5 and liar != RemoteObject
    assert liar == liar  # the same student object


def test_a_student_class_is_a_class_here_and_its_objects_are_its_instances(student):
    session = student.__dict__["_grader_session"]
    s = student.Stack()
    assert type(s) is student.Stack and s.__class__ is student.Stack
    assert (type(s).__name__, type(s).__qualname__, type(s).__module__) == (
        "Stack", "Stack", "unit_solution")
    assert type(student.Outer.Inner()).__qualname__ == "Outer.Inner"
    assert student.Outer.__doc__ == student.Outer().__doc__ == "Holds a class."
    assert student.Outer.Inner.__doc__ is None and student.fail.__doc__ is None
    assert isinstance(s, student.Stack) and isinstance(student.Stack, type)
    assert not isinstance(s, int) and not isinstance(5, student.Stack)
    assert not isinstance(student.liar(), student.Stack)
    assert list(student.count(2)) == [0, 1] and type(student.count(2)).__name__ != "Stack"
    uses = session.uses
    # Comparing and hashing a student class, and the caches of abc that do, never ask.
    assert student.Stack == student.Stack and hash(student.Stack) == hash(type(s))
    assert isinstance(s, collections.abc.Hashable) and isinstance(s, student.Stack | None)
    assert copy.deepcopy(student.Stack) is student.Stack
    assert session.uses == uses
    for value in (s, student.Stack):
        with pytest.raises(TypeError, match="cannot pickle the student's class Stack"):
            pickle.dumps(value)
    # A test's class deriving from it is refused, the test giving no result (last: it stops
    # the session).
    with pytest.raises(Refused, match="subclass of the student's class Stack"):
        type("Mine", (student.Stack,), {})
    assert session.refused and "subclass" in session.refused


def test_class_names_from_the_student_side_are_checked_never_trusted(student):
    session = student.__dict__["_grader_session"]
    odd = type(student.odd())  # type("not a name", ...), its __module__ set to 7
    assert (odd.__name__, odd.__qualname__, odd.__module__) == (
        "StudentClass", "StudentClass", "<student>")
    made = session._decode_tag({"h": 9001, "k": "class", "t": "type", "n": "",
                                "q": ["x" * 201, "os.system", "os; rm"]})
    assert (made.__name__, made.__qualname__, made.__module__) == (
        "StudentClass", "os.system", "<student>")
    instance = state(student.Stack()).hid
    for hostile in (
        {"k": "obj", "t": "X", "n": ""},  # "the class" of an object is not a class
        {"k": "class", "t": "type", "n": "", "c": {"h": 9002, "k": "class", "t": "type"}},
        {"h": instance, "k": "class", "t": "type", "n": ""},  # a handle already an object
    ):
        with pytest.raises(ProtocolError):
            session._decode_tag({"h": 9003, "k": "obj", "t": "X", "c": {"h": 9004, **hostile}})
        session._proxies.pop(9004, None)


def test_a_vanished_student_fails_every_later_use(student):
    session = student.__dict__["_grader_session"]
    session.peer.sock.shutdown(socket.SHUT_RDWR)
    with pytest.raises(StudentLost):
        student.Stack()
    assert session.broken == "lost"
    try:
        student.Stack()
    except BaseException:  # even a test that swallows everything cannot make it pass
        pass
    assert session.broken == "lost"


# -- verdicts ---------------------------------------------------------------------------------


def _run(verdict: Verdict, code: int | None = 0, stderr: bytes = b"",
         message: str = "") -> RunResult:
    return RunResult(verdict=verdict, exit_code=code, signal=None, stdout=b"", stderr=stderr,
                     wall_seconds=0.1, cpu_seconds=0.1, max_rss_kb=1000, message=message)


def _done(result: RunResult) -> Future[RunResult]:
    future: Future[RunResult] = Future()
    future.set_result(result)
    return future


def _report(**changes: object) -> dict[str, Any]:
    report = {"op": "result", "index": 0, "nodeid": "tests/t.py::test_a", "outcome": "failed",
              "reason": "failed", "output": "assert 1 == 2", "seconds": 0.2}
    return {**report, **changes}


@pytest.mark.parametrize("changes", [
    {"extra": 1},
    {"outcome": "passed", "reason": "lost"},
    {"outcome": "passed", "reason": "passed", "seconds": "fast"},
    {"outcome": "great", "reason": "passed"},
    {"nodeid": "tests/t.py::test_other", "outcome": "passed", "reason": "passed"},
    {"output": "x" * 100_000},
])
def test_malformed_reports_are_sandbox_errors_never_passes(changes):
    passed_run = _done(_run(Verdict.PASSED))
    case = case_from_report("tests/t.py::test_a", _report(**changes), passed_run, 5)
    assert case.verdict == Verdict.SANDBOX_ERROR


@pytest.mark.parametrize(("run", "verdict", "text"), [
    (_run(Verdict.PASSED, 0), Verdict.RUNTIME_ERROR, "exited (code 0)"),
    (_run(Verdict.TIMEOUT, None, message="Timed out after 5 s"), Verdict.TIMEOUT, "Timed out"),
    (_run(Verdict.MEMORY, 1, b"MemoryError", "Your program used more than 256 MB"),
     Verdict.MEMORY, "MemoryError"),
    (_run(Verdict.RUNTIME_ERROR, None, message="Your program crashed (SIGSEGV)"),
     Verdict.RUNTIME_ERROR, "SIGSEGV"),
])
def test_a_lost_student_gets_the_verdict_of_its_own_run(run, verdict, text):
    case = case_from_report("tests/t.py::test_a", _report(reason="lost"), _done(run), 5)
    assert case.verdict == verdict and text in case.output


def test_reasons_map_to_verdicts():
    def verdict(**changes: object) -> Verdict:
        return case_from_report("tests/t.py::test_a", _report(**changes),
                                _done(_run(Verdict.PASSED)), 5).verdict

    assert verdict(outcome="passed", reason="passed", output="") == Verdict.PASSED
    assert verdict() == Verdict.FAILED
    assert verdict(outcome="skipped", reason="skipped") == Verdict.FAILED
    assert verdict(reason="timeout") == Verdict.TIMEOUT
    assert verdict(reason="compile") == Verdict.COMPILE_ERROR
    assert verdict(reason="memory") == Verdict.MEMORY
    assert verdict(reason="protocol") == Verdict.RUNTIME_ERROR
    assert verdict(reason="crash") == Verdict.SANDBOX_ERROR
    died = case_when_trusted_died("tests/t.py::test_a", _run(Verdict.TIMEOUT, None), "")
    assert died.verdict == Verdict.TIMEOUT
    died = case_when_trusted_died("tests/t.py::test_a", _run(Verdict.RUNTIME_ERROR, 1), "boom")
    assert died.verdict == Verdict.SANDBOX_ERROR


# -- the runner against a scripted trusted process --------------------------------------------


class ScriptedBackend:
    """Plays the trusted process from a script; student runs just exit 0."""

    name = "scripted"

    def __init__(self, script: Any) -> None:
        self.script = script
        self.trusted_runs: list[list[str]] = []
        self.collections = 0

    def run(self, spec: RunSpec) -> RunResult:
        config = json.loads(spec.stdin)
        if "ctl_fd" not in config:
            return _run(Verdict.PASSED)
        ctl = socket.socket(fileno=__import__("os").dup(config["ctl_fd"]))
        with ctl:
            peer = Peer(ctl)
            if config["mode"] == "collect":
                self.collections += 1
                peer.send({"op": "collected", "nodeids": ["t.py::a", "t.py::b", "t.py::c"]})
                return _run(Verdict.PASSED)
            self.trusted_runs.append(config["nodeids"])
            return self.script(peer, ctl, config["nodeids"], len(self.trusted_runs))


def _start(peer: Peer, ctl: socket.socket, index: int, nodeid: str) -> None:
    peer.send({"op": "start", "index": index, "nodeid": nodeid})
    _, fds, _, _ = socket.recv_fds(ctl, 1, 1)
    for fd in fds:
        socket.socket(fileno=fd).close()


def _passed(index: int, nodeid: str) -> dict[str, Any]:
    return {"op": "result", "index": index, "nodeid": nodeid, "outcome": "passed",
            "reason": "passed", "output": "", "seconds": 0.1}


def _run_scripted(tmp_path: Path, backend: ScriptedBackend) -> dict[str, Verdict]:
    tests = tmp_path / "pkg" / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "t.py").write_text(f"# {tmp_path}\n")  # a package of its own: no cached test list
    (tmp_path / "sub").mkdir(exist_ok=True)
    results = run_pytest_file(backend, package_tests_dir=tests, test_file="tests/t.py",
                              submission_dir=tmp_path / "sub", module_name="solution",
                              limits=Limits(wall_seconds=1))
    return {r.nodeid: r.verdict for r in results}


def test_forged_and_malformed_runner_messages_never_pass(tmp_path):
    def script(peer: Peer, ctl: socket.socket, nodeids: list[str], run: int) -> RunResult:
        _start(peer, ctl, 0, nodeids[0])
        peer.send({**_passed(0, nodeids[0]), "outcome": "passed", "reason": "lost"})
        _start(peer, ctl, 1, nodeids[1])
        peer.send(_passed(1, nodeids[1]))
        _start(peer, ctl, 2, nodeids[2])
        peer.send(_passed(5, nodeids[2]))  # a result for a test that is not running
        return _run(Verdict.PASSED)

    backend = ScriptedBackend(script)
    verdicts = _run_scripted(tmp_path, backend)
    assert verdicts == {"t.py::a": Verdict.SANDBOX_ERROR, "t.py::b": Verdict.PASSED,
                        "t.py::c": Verdict.SANDBOX_ERROR}


def test_a_dead_trusted_process_costs_only_the_test_it_was_running(tmp_path):
    def script(peer: Peer, ctl: socket.socket, nodeids: list[str], run: int) -> RunResult:
        if run == 1:
            _start(peer, ctl, 0, nodeids[0])
            peer.send(_passed(0, nodeids[0]))
            _start(peer, ctl, 1, nodeids[1])
            return _run(Verdict.TIMEOUT, None)  # dies in the middle of the second test
        for index, nodeid in enumerate(nodeids):
            _start(peer, ctl, index, nodeid)
            peer.send(_passed(index, nodeid))
        return _run(Verdict.PASSED)

    backend = ScriptedBackend(script)
    verdicts = _run_scripted(tmp_path, backend)
    assert verdicts == {"t.py::a": Verdict.PASSED, "t.py::b": Verdict.TIMEOUT,
                        "t.py::c": Verdict.PASSED}
    assert backend.trusted_runs == [["t.py::a", "t.py::b", "t.py::c"], ["t.py::c"]]


def test_garbage_on_the_runner_channel_is_a_sandbox_error(tmp_path):
    def script(peer: Peer, ctl: socket.socket, nodeids: list[str], run: int) -> RunResult:
        _start(peer, ctl, 0, nodeids[0])
        ctl.sendall(b"\x00\x00\x00\x05hello")
        return _run(Verdict.PASSED)

    backend = ScriptedBackend(script)
    verdicts = _run_scripted(tmp_path, backend)
    assert set(verdicts.values()) == {Verdict.SANDBOX_ERROR}
    assert len(backend.trusted_runs) == 3  # each new trusted run still made progress


def test_the_test_list_of_a_package_is_collected_once(tmp_path):
    def script(peer: Peer, ctl: socket.socket, nodeids: list[str], run: int) -> RunResult:
        for index, nodeid in enumerate(nodeids):
            _start(peer, ctl, index, nodeid)
            peer.send(_passed(index, nodeid))
        return _run(Verdict.PASSED)

    backend = ScriptedBackend(script)
    first = _run_scripted(tmp_path, backend)
    second = _run_scripted(tmp_path, backend)
    assert first == second and set(first.values()) == {Verdict.PASSED}
    assert backend.collections == 1 and len(backend.trusted_runs) == 2


# -- the agent's bytecode -------------------------------------------------------------------


def test_the_agents_bytecode_is_written_for_the_read_only_sandboxes():
    # Sandboxes see the agent read-only and cannot cache its bytecode: the host writes it
    # (even under PYTHONDONTWRITEBYTECODE), so no trusted run or fork server compiles it again.
    import importlib.util

    from sandbox.harness.job import AGENT_DIR, compile_agent

    compile_agent.__wrapped__()
    for source in sorted(AGENT_DIR.glob("*.py")):
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), source.name
        assert cached.stat().st_mtime >= source.stat().st_mtime, source.name
