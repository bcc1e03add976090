"""Trusted side of one test's conversation with the student process.

A :class:`Session` owns the socket to the student process of the current test. Proxies
(``proxy.py``) turn attribute reads, calls and operators into requests; replies are decoded by
``decoder.Decoder`` into plain values, teacher helper-class instances, or new proxies. Nothing
the student sends is ever executed or compared by student code on this side.

When the channel breaks (the student died, sent garbage, or the test ran out of time) the
session remembers why and raises an ``errors.HarnessSignal``. Those derive from BaseException, so
``except Exception`` or ``pytest.raises(Exception)`` in a test cannot swallow them, and the
pytest plugin fails the test whenever a flag is set, whatever pytest concluded.

What crosses the channel on the way (the codec policies, the student's exceptions, output,
warnings and log records, the student side's own requests) is handled by ``exchange.py``,
the other half of ``Session``.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from typing import Any, NoReturn

from .ambient import Tracker
from .codec import SAFE_BUILTINS, Encoder, HelperRegistry
from .decoder import Decoder
from .errors import (
    ExceptionClasses,
    HarnessSignal,
    ProtocolViolation,
    Refused,
    StudentBaseException,
    StudentException,
    StudentImportFailed,
    StudentLost,
    TestTimeout,
    ValueNotTransferable,
)
from .exchange import MAX_TEXT, Exchange, as_text
from .shared import Mirror
from .wire import ChannelClosed, ChannelTimeout, Message, Peer, ProtocolError, dumps


class Session(Exchange):
    def __init__(self, peer: Peer, helpers: HelperRegistry) -> None:
        self.peer = peer
        self.helpers = helpers
        self.lost: str | None = None
        self.violation: str | None = None
        self.timed_out = False
        self.import_error: str | None = None
        self.import_syntax_error = False
        self.import_error_used = False
        self.memory_error = False  # student code raised MemoryError during this test
        self.untransferable: str | None = None
        # Set when the test did something the harness refuses to do for it (run a program, run
        # the student's code on this side): the test gives no result, the package is at fault.
        self.refused: str | None = None
        # Process state of the test mirrored into the student process (``ambient.py``); None
        # where nothing is mirrored (unit tests drive a Session by hand).
        self.ambient: Tracker | None = None
        # The test's temporary folders mirrored both ways with every message (``shared.py``);
        # None where nothing is (unit tests).
        self.files: Mirror | None = None
        self.imported = False  # the student process imported the module at least once
        self.module_doc: str | None = None
        # Requests to the student process so far that could tell the test something about the
        # submission (see ``getattr`` for the lookups that do not count). A test whose setup
        # failed while this is 0 failed whatever the submission: the plugin counts that as
        # the package's fault. ``collecting`` is True until the test's setup starts.
        self.uses = 0
        self.collecting = True
        self._pending_output: list[tuple[str, str]] = []
        self._proxies: dict[int, Any] = {}
        self._methods: dict[tuple[int | None, str], Any] = {}
        self._callbacks: list[Callable[..., Any]] = []
        self._callback_ids: dict[int, int] = {}
        self.exception_classes = ExceptionClasses()
        self._start: tuple[float, float, Callable[[], None]] | None = None
        self._wall: float | None = None
        # Called once the test can no longer pass (see ``broken``); the trusted child reports
        # and exits there. Without it the HarnessSignal is raised into the test code.
        self.on_broken: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start_lazily(self, hello_deadline: float, wall: float,
                     on_ready: Callable[[], None]) -> None:
        """Wait for the student's hello only at the first use of the student module.

        Until then pytest starts up and imports the test module in parallel with the student
        process starting. The test's ``wall`` seconds are counted from the hello on.
        """
        self._start = (hello_deadline, wall, on_ready)
        self._wall = wall

    def next_test(self, cpu: float | None = None, own: bool = False) -> None:
        """A test that replays earlier ones (``RunPlugin.replay``) is at the start of one of
        them (``own``: of itself): once the student said hello, its calls get the test's
        ``wall`` seconds from now and the student process ``cpu`` more seconds of CPU (its
        soft RLIMIT_CPU), as each test would have alone; a traced process starts the test's
        own evidence at its own start."""
        if self._start is not None or self._wall is None or self.broken:
            return
        self.peer.deadline = time.monotonic() + self._wall
        self._op({"op": "cpu", "s": cpu or 0, "own": own}, None, use=False, needs_module=False)

    def hello(self, deadline: float) -> None:
        """Wait for the student process to report that it imported (or failed to import)."""
        self.peer.deadline = deadline
        try:
            msg = self.peer.recv()
        except ChannelClosed as exc:
            self.lost = f"the student program ended before it was ready ({exc})"
            return
        except ChannelTimeout:
            self.timed_out = True
            return
        except ProtocolError as exc:
            self.violation = str(exc)
            return
        if msg.get("op") != "hello" or not isinstance(msg.get("ok"), bool):
            self.violation = "the first message was not a hello"
            return
        self._take_output(msg)
        if not msg["ok"]:
            info = msg.get("exc")
            self.import_error = as_text(info.get("tb") if isinstance(info, dict) else None) or (
                "importing the module failed"
            )
            self.import_syntax_error = msg.get("syntax") is True

    @property
    def broken(self) -> str | None:
        """Why this test cannot pass whatever pytest says, or None."""
        if self.timed_out:
            return "timeout"
        if self.lost:
            return "lost"
        if self.violation:
            return "protocol"
        if self.untransferable:
            return "value"
        if self.refused:
            return "refused"
        if self.import_error and self.import_error_used:
            return "compile" if self.import_syntax_error else "import"
        return None

    @property
    def failure_reason(self) -> str:
        """How to label a test that failed on its own (pytest said failed)."""
        return "memory" if self.memory_error else "failed"

    # -- operations used by the proxies ----------------------------------------------------

    def getattr(self, target: int | None, name: str) -> Any:
        """An attribute of the student module (``target`` None) or of a student object.

        Two kinds of lookup are not counted in ``uses``, since their answer says nothing about
        how the student's code behaves: a name of the module that gives a reference to a
        function, class or object (``from solution import add``), and, while the test module
        is being collected, any lookup on a student object that gives a reference or no such
        attribute (pytest probes every module-level object for fixture markers).
        """
        __tracebackhide__ = True
        probe = target is not None and self.collecting
        try:
            value = self._op({"op": "getattr", "t": target, "n": name}, None, use=False)
        except AttributeError:
            if not probe:
                self.uses += 1
            raise
        except BaseException:  # a student exception, a lost student, a timeout: a use
            self.uses += 1
            raise
        if not _is_reference(value) or (target is not None and not self.collecting):
            self.uses += 1
        return value

    def setattr(self, target: int | None, name: str, value: object) -> None:
        __tracebackhide__ = True
        self._op({"op": "setattr", "t": target, "n": name}, [value])

    def delattr(self, target: int | None, name: str) -> None:
        __tracebackhide__ = True
        self._op({"op": "delattr", "t": target, "n": name}, None)

    def call(self, target: int | None, name: str | None, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        return self._op({"op": "call", "t": target, "n": name}, [list(args), dict(kwargs)])

    def dunder(self, name: str, *args: object) -> Any:
        """``operator``-style operation ``name`` applied on the student side to ``args``."""
        __tracebackhide__ = True
        return self._op({"op": "dunder", "n": name}, list(args))

    def exit_with(self, subject: object, kind: type[BaseException],
                  value: BaseException | None) -> Any:
        """``subject.__exit__`` in the student process for the test's exception ``value``: its
        class, or the first of its bases that travels as a class (a builtin, a student or a
        helper class: never a class of the test, which would be a call back), and its
        arguments (their text where they cannot travel)."""
        __tracebackhide__ = True
        sendable = next((c for c in kind.__mro__ if self._class_travels(c)), None)
        if sendable is None:
            return self.dunder("exit", subject)
        args: list[object] = list(getattr(value, "args", ()) or ())
        try:
            Encoder(self.helpers, self._encode_other).encode(args)
        except (TypeError, ValueError):
            args = [str(a)[:MAX_TEXT] for a in args]
        return self.dunder("exit", subject, sendable, args)

    def _class_travels(self, cls: type) -> bool:
        name = cls.__name__
        return (getattr(builtins, name, None) is cls and name in SAFE_BUILTINS) or (
            issubclass(cls, StudentBaseException) and "_student_path" in cls.__dict__
        ) or self.helpers.class_path(cls) is not None

    def text(self, kind: str, subject: object) -> str:
        __tracebackhide__ = True
        value = self.dunder(kind, subject)
        if not isinstance(value, str):
            raise TypeError(f"__{kind}__ returned {type(value).__name__}, not str")
        return value[:MAX_TEXT]

    def import_module(self, mode: str) -> None:
        """Import the student module in the student process (``first``), again as a new module
        (``fresh``) or into the same one (``reload``), as the test's import statement asks.

        While the test module is being collected a failed import is only remembered: it fails
        the test at the first use of the module, as the test's own failure would. During the
        test it fails the test at once (``StudentImportFailed``). Output of an import made while
        collecting is dropped: under plain pytest it would not be part of any test's output.
        """
        __tracebackhide__ = True
        self._check_usable(needs_module=False)
        reply = self._request({"op": "import", "mode": mode})
        if not self.collecting:
            self._take_output(reply)
            self._flush_output()
        if not isinstance(reply.get("ok"), bool):
            self._violate("an import reply without 'ok'")
        self.imported = True
        if reply["ok"]:
            self.import_error, self.import_error_used = None, False
            doc = reply.get("doc")
            self.module_doc = doc[:MAX_TEXT] if isinstance(doc, str) else None
            return
        info = reply.get("exc")
        self.import_error = as_text(info.get("tb") if isinstance(info, dict) else None) or (
            "importing the module failed"
        )
        self.import_syntax_error = reply.get("syntax") is True
        if not self.collecting:
            self._check_usable()

    def run_code(self, kind: str, target: str, run_name: str | None,
                 init_globals: dict[str, Any] | None, alter_sys: bool) -> Any:
        """``runpy.run_path``/``run_module`` of the student's file, in the student process."""
        __tracebackhide__ = True
        self.uses += 1
        message = {"op": "run", "kind": kind, "target": target, "run_name": run_name,
                   "alter_sys": alter_sys}
        return self._op(message, [init_globals], use=False, needs_module=False)

    def run_doctests(self, options: dict[str, Any]) -> tuple[int, int]:
        """``doctest.testmod`` of the student's module, in the student process: ``(failed,
        attempted)`` as it counted them (the student's own figures, data to compare)."""
        __tracebackhide__ = True
        found = self._op({"op": "doctest"}, [options])
        if not (isinstance(found, list) and len(found) == 2
                and all(type(n) is int and n >= 0 for n in found)):
            self._violate("a malformed doctest result")
        return found[0], found[1]

    def run_program(self, *, flags: list[str], target: list[str], args: list[str], stdin: bytes,
                    merge: bool, env: dict[str, str] | None,
                    timeout: float | None) -> dict[str, Any]:
        """The student's file run as a program in the student sandbox: its exit status and
        output, checked for shape (it is the student program's own, untrusted, output)."""
        __tracebackhide__ = True
        self.uses += 1
        message = {"op": "program", "flags": flags, "target": target, "args": args,
                   "merge": merge, "timeout": timeout}
        found = self._op(message, [stdin, env], use=False, needs_module=False)
        if not (isinstance(found, dict) and isinstance(found.get("out"), bytes)
                and isinstance(found.get("err"), bytes) and isinstance(found.get("timeout"), bool)
                and (found["timeout"] or type(found.get("rc")) is int)):
            self._violate("a malformed result of running the program")
        return found

    def refuse(self, why: str) -> NoReturn:
        """Stop the test: it asked for something the harness will not do (``Refused``)."""
        __tracebackhide__ = True
        self.refused = why
        self._stop(Refused(why))

    def public_names(self) -> list[str]:
        __tracebackhide__ = True
        names = self._op({"op": "public"}, None)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self._violate("the list of public names is not a list of strings")
        return list(names)

    # -- the round trip --------------------------------------------------------------------

    def _check_usable(self, needs_module: bool = True) -> None:
        __tracebackhide__ = True
        if self._start is not None:
            hello_deadline, wall, on_ready = self._start
            self._start = None
            self.hello(hello_deadline)
            self.peer.deadline = time.monotonic() + wall
            on_ready()
        if self.timed_out:
            self._stop(TestTimeout("the test ran out of time"))
        if self.lost:
            self._stop(StudentLost(self.lost))
        if self.violation:
            self._stop(ProtocolViolation(self.violation))
        if self.refused:
            self._stop(Refused(self.refused))
        if self.import_error and needs_module:
            self.import_error_used = True
            self._stop(StudentImportFailed("the student module could not be imported:\n"
                                           + self.import_error))

    def _stop(self, signal: HarnessSignal) -> NoReturn:
        __tracebackhide__ = True
        if self.on_broken is not None and self.broken is not None:
            self.on_broken()
        raise signal

    def _violate(self, why: str) -> NoReturn:
        __tracebackhide__ = True
        self.violation = why
        self._stop(ProtocolViolation(why))

    def _op(self, message: Message, args: list[Any] | None, use: bool = True,
            needs_module: bool = True) -> Any:
        __tracebackhide__ = True
        # Counted before the round trip: a student exception, a lost student or a timeout is
        # a use too (``getattr`` on the module counts itself: see there).
        if use:
            self.uses += 1
        self._check_usable(needs_module)
        if needs_module and not self.imported:
            self.import_module("first")  # a Session driven without the import statement
        originals: list[object] = []
        if args is not None:
            try:
                graph, originals = Encoder(self.helpers, self._encode_other).encode(args)
            except TypeError as exc:
                # What the test hands the student's code: under plain pytest it would simply be
                # passed, so no submission is at fault (the teacher is told how to fix it).
                self.refuse(f"{exc}; under plain pytest it would be passed as it is: define "
                            "such a class in a helper module under tests/ (its objects travel "
                            "by value) or pass plain values")
            message = {**message, "a": graph}
        self._flush_output()
        try:
            dumps(message)  # only our own request may be too large: say so before sending
        except ValueError as exc:
            raise ValueError(f"cannot send these arguments to the student's code: {exc}") from None
        return self._result(self._request(message), originals)

    def _request(self, message: Message) -> Message:
        """One round trip, with the test's process state that changed since the last one."""
        __tracebackhide__ = True
        if self.ambient is not None:
            delta = self.ambient.changes()
            if delta is not None:
                try:
                    graph, _ = Encoder(self.helpers, self._encode_other).encode(delta)
                    message = {**message, "env": graph}
                except (TypeError, ValueError):
                    pass  # a replacement that cannot travel: the student keeps its own
        if self.files is not None:
            message = self.files.attach(message)
        try:
            reply = self.peer.request(message, self._serve)
            if self.files is not None:
                self.files.receive(reply)
            return reply
        except ChannelClosed as exc:
            self.lost = f"the connection to the student program broke ({exc})"
            self._stop(StudentLost(self.lost))
        except ChannelTimeout:
            self.timed_out = True
            self._stop(TestTimeout("the test ran out of time"))
        except ProtocolError as exc:
            self._violate(str(exc))

    def _result(self, reply: Message, originals: list[object]) -> Any:
        __tracebackhide__ = True
        self._take_output(reply)
        self._flush_output()
        ok = reply.get("ok")
        if not isinstance(ok, bool):
            self._violate("a reply without 'ok'")
        if "untransferable" in reply:
            self.untransferable = as_text(reply["untransferable"])[:MAX_TEXT] or "unknown reason"
            self._stop(ValueNotTransferable(self.untransferable))
        try:
            root, _ = Decoder(self.helpers, self._decode_tag, originals).decode(reply.get("v"))
        except ProtocolError as exc:
            self._violate(f"undecodable reply: {exc}")
        if not isinstance(root, list) or len(root) != 2:
            self._violate("a reply value must be [result, arguments]")
        self._warn(reply.get("w"))
        self._log(reply.get("log"))
        if not ok:
            raise self._exception(reply.get("exc"))
        if reply.get("stop") is True:
            raise StopIteration(root[0])
        return root[0]


def _is_reference(value: object) -> bool:
    """A proxy for a student function, class or object: it says nothing about how they behave."""
    from .proxy import RemoteMethod, RemoteObject

    return isinstance(value, RemoteObject | RemoteMethod)


__all__ = [
    "HarnessSignal", "ProtocolViolation", "Refused", "Session", "StudentBaseException",
    "StudentException", "StudentImportFailed", "StudentLost", "TestTimeout", "ValueNotTransferable",
]
