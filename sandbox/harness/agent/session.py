"""Trusted side of one test's conversation with the student process.

A :class:`Session` owns the socket to the student process of the current test. Proxies
(``proxy.py``) turn attribute reads, calls and operators into requests; replies are decoded by
``decoder.Decoder`` into plain values, teacher helper-class instances, or new proxies. Nothing
the student sends is ever executed or compared by student code on this side.

When the channel breaks (the student died, sent garbage, or the test ran out of time) the
session remembers why and raises an ``errors.HarnessSignal``. Those derive from BaseException, so
``except Exception`` or ``pytest.raises(Exception)`` in a test cannot swallow them, and the
pytest plugin fails the test whenever a flag is set, whatever pytest concluded.
"""

from __future__ import annotations

import builtins
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

from .ambient import Tracker
from .codec import NOTHING, SAFE_BUILTINS, Encoder, HelperRegistry, Tag
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
    make_exception_class,
    path_of,
)
from .wire import ChannelClosed, ChannelTimeout, Message, Peer, ProtocolError, dumps

MAX_TEXT = 10_000  # characters of a repr()/str() of a student object kept
MAX_OUTPUT = 64 * 1024  # characters of student stdout/stderr forwarded per reply
HANDLE_KINDS = ("obj", "callable", "class", "iter", "module")
MAX_WARNINGS = 50
MAX_RECORDS = 100  # log records of one reply
# What the student side may ask of the test's sys.stdin (``student.RemoteStdin``).
STDIN_METHODS = frozenset({"read", "readline", "readlines", "buffer.read", "buffer.readline",
                           "buffer.readlines"})


class Session:
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
            self.import_error = _text(info.get("tb") if isinstance(info, dict) else None) or (
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
        self.import_error = _text(info.get("tb") if isinstance(info, dict) else None) or (
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
            graph, originals = Encoder(self.helpers, self._encode_other).encode(args)
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
        try:
            return self.peer.request(message, self._serve)
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
            self.untransferable = _text(reply["untransferable"])[:MAX_TEXT] or "unknown reason"
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

    def _serve(self, request: Message) -> Message:
        """Answer a request of the student side: call a function the test passed (``callback``)
        or read the test's ``sys.stdin`` (``stdin``). What the student printed before asking
        comes with the request and is written out first, so output keeps its order."""
        self._take_output(request)
        self._flush_output()
        op = request.get("op")
        root: object = None
        objs: list[object] = []
        if op in ("callback", "open"):
            index = request.get("cb")
            if type(index) is not int or not 0 <= index < len(self._callbacks):
                raise ProtocolError("callback to an unknown function")
            root, objs = Decoder(self.helpers, self._decode_tag).decode(request.get("a"))
            if not isinstance(root, list) or len(root) != 2:
                raise ProtocolError("callback arguments must be [list, dict]")
            args, kwargs = root
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(
                isinstance(k, str) for k in kwargs
            ):
                raise ProtocolError("callback arguments must be [list, dict]")
            function: Callable[[], object] = lambda: self._callbacks[index](*args, **kwargs)  # noqa: E731
            if op == "open":  # the test's patched open(): what its file gives, as a value
                function = lambda: _file_value(self._callbacks[index](*args, **kwargs))  # noqa: E731
        elif op == "stdin":
            method, size = request.get("m"), request.get("n")
            if method not in STDIN_METHODS or type(size) is not int:
                raise ProtocolError("a malformed read of stdin")
            function = lambda: _read_stdin(str(method), size)  # noqa: E731
        else:
            raise ProtocolError(f"the student side may not ask for {op!r}")
        sources = {id(o): i for i, o in enumerate(objs)}
        encoder = Encoder(self.helpers, self._encode_other, sources)
        try:
            result: object = function()
            ok, error = True, None
        except HarnessSignal:
            raise
        except Exception as exc:  # the test's function raised: the student code sees it
            result, ok = None, False
            kind = type(exc)
            named = kind.__module__ == "builtins" and getattr(builtins, kind.__name__, None) is kind
            error = {"mro": [["builtins", kind.__name__]] if named else [["test", "Exception"]],
                     "msg": str(exc)[:2000] if named else f"{kind.__name__}: {exc}"[:2000]}
        try:
            graph, _ = encoder.encode([result, root])
            reply = {"ok": ok, "v": graph, **({"exc": error} if error else {})}
            dumps(reply)
        except (TypeError, ValueError) as exc:  # the student code gets the error, not the test
            reply = {"ok": False, "v": NOTHING,
                     "exc": {"mro": [["test", "Exception"]], "msg": str(exc)[:2000]}}
        return reply

    def _log(self, found: object) -> None:
        """Hand the student's log records to the test's loggers (``caplog``), by name."""
        if not isinstance(found, list):
            return
        import logging

        for item in found[:MAX_RECORDS]:
            if not (isinstance(item, list) and len(item) == 7 and isinstance(item[0], str)
                    and type(item[1]) is int and isinstance(item[2], str)
                    and isinstance(item[3], str) and type(item[4]) is int
                    and isinstance(item[5], str) and (item[6] is None or isinstance(item[6], str))):
                continue
            name, level, message, path, line, function, exc_text = item
            logger = logging.getLogger(name[:200] if name and name != "root" else None)
            logger.handle(logging.makeLogRecord({
                "name": logger.name, "levelno": level, "levelname": logging.getLevelName(level),
                "msg": message[:MAX_TEXT], "args": None, "pathname": path[:300],
                "filename": path.rsplit("/", 1)[-1][:300], "module": "", "lineno": line,
                "funcName": function[:200], "exc_text": exc_text[:MAX_TEXT] if exc_text else None,
            }))

    def _warn(self, found: object) -> None:
        """Issue again, here, the warnings the student's code issued (``pytest.warns``)."""
        if not isinstance(found, list):
            return
        for item in found[:MAX_WARNINGS]:
            if not (isinstance(item, list) and len(item) == 4 and isinstance(item[1], str)
                    and isinstance(item[2], str) and type(item[3]) is int):
                continue
            try:
                category = self.exception_classes.get(item[0])
            except ProtocolError:
                continue
            if not issubclass(category, Warning):
                category = UserWarning
            warnings.warn_explicit(item[1][:MAX_TEXT], category, item[2][:300], item[3])

    # -- output ----------------------------------------------------------------------------

    def _take_output(self, msg: Message) -> None:
        for stream in ("out", "err"):
            text = msg.get(stream)
            if isinstance(text, str) and text:
                self._pending_output.append((stream, text[:MAX_OUTPUT]))

    def _flush_output(self) -> None:
        """Print what the student printed, so pytest's capture (capsys) sees it."""
        for stream, text in self._pending_output:
            target = sys.stdout if stream == "out" else sys.stderr
            try:
                target.write(text)
            except (UnicodeError, ValueError, OSError):
                target.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
        self._pending_output.clear()

    # -- codec policies --------------------------------------------------------------------

    def _encode_other(self, x: object) -> Tag:
        from .proxy import RemoteMethod, RemoteObject

        if isinstance(x, RemoteObject):
            if object.__getattribute__(x, "_grader_session") is not self:
                raise TypeError("an object from another test's student process")
            return {"h": object.__getattribute__(x, "_grader_hid")}
        if isinstance(x, RemoteMethod):
            return {"m": [x._grader_target, x._grader_name]}
        name = getattr(x, "__name__", None)
        if isinstance(name, str) and getattr(builtins, name, None) is x and name in SAFE_BUILTINS:
            return {"b": name}
        if isinstance(x, type):
            if issubclass(x, StudentBaseException) and "_student_path" in x.__dict__:
                return {"x": [list(x._student_path)]}
            path = self.helpers.class_path(x)
            if path is not None:
                return {"hc": path}
        if callable(x):
            key = id(x)
            if key not in self._callback_ids:
                self._callback_ids[key] = len(self._callbacks)
                self._callbacks.append(x)
            return {"cb": self._callback_ids[key]}
        raise TypeError(
            f"cannot pass a {type(x).__name__} to the student's code: only plain values, "
            "instances of classes from the tests/ helper modules, and functions can be passed"
        )

    def _decode_tag(self, tag: Tag) -> object:
        from .proxy import RemoteIterator, RemoteMethod, RemoteObject

        if "h" in tag:
            hid, kind, type_name = tag.get("h"), tag.get("k"), tag.get("t")
            if type(hid) is not int or kind not in HANDLE_KINDS or not isinstance(type_name, str):
                raise ProtocolError("bad handle")
            assert isinstance(hid, int)
            proxy = self._proxies.get(hid)
            if proxy is None:
                cls = RemoteIterator if kind == "iter" else RemoteObject
                proxy = cls(self, hid, kind, type_name[:200], _text(tag.get("n"))[:200])
                self._proxies[hid] = proxy
            return proxy
        if "m" in tag:
            pair = tag["m"]
            if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], str)
                    or not (pair[0] is None or type(pair[0]) is int)):
                raise ProtocolError("bad method reference")
            key = (pair[0], pair[1][:200])
            if key not in self._methods:
                self._methods[key] = RemoteMethod(self, *key)
            return self._methods[key]
        if "cb" in tag:
            index = tag["cb"]
            if type(index) is not int or not 0 <= index < len(self._callbacks):
                raise ProtocolError("reference to an unknown callback")
            return self._callbacks[index]
        if "x" in tag:
            return self.exception_classes.get(tag["x"])
        if "hc" in tag:
            return self.helpers.resolve(tag["hc"])
        if "b" in tag:
            if tag["b"] not in SAFE_BUILTINS:
                raise ProtocolError(f"builtin {tag['b']!r} is not allowed")
            return getattr(builtins, tag["b"])
        raise ProtocolError(f"unknown tag {sorted(tag)[:3]!r}")

    # -- exceptions ------------------------------------------------------------------------

    def _exception(self, info: object) -> BaseException:
        """The exception to raise for a student's failed call."""
        if not isinstance(info, dict):
            self._violate("an error reply without exception details")
        assert isinstance(info, dict)
        try:
            cls = self.exception_classes.get(info.get("mro"))
        except ProtocolError as exc:
            self._violate(str(exc))
        message = _text(info.get("msg"))[:MAX_TEXT]
        args: list[Any] = [message]
        if "args" in info:
            try:
                decoded, _ = Decoder(self.helpers, self._decode_tag).decode(info["args"])
                if isinstance(decoded, list):
                    args = decoded
            except ProtocolError:
                pass
        error: BaseException
        try:
            error = cls(*args)
        except Exception:
            try:
                error = cls(message)
            except Exception:
                base = StudentException if issubclass(cls, Exception) else StudentBaseException
                error = make_exception_class(*path_of(cls), (base,))(message)
        trace = _text(info.get("tb"))[:MAX_TEXT]
        if isinstance(error, MemoryError):
            self.memory_error = True
        if isinstance(error, StudentBaseException):
            error.student_traceback = trace
        if trace:
            error.add_note(trace)
        return error


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _file_value(handle: Any) -> dict[str, Any]:
    """A file the test's ``open()`` returned, as ``streams.TestFile`` rebuilds it: its content
    (read here, by the test's own object) and its ``write`` (called back for each write)."""
    try:
        data = handle.read()
    except Exception:  # a file opened for writing only
        data = ""
    write = getattr(handle, "write", None)
    return {"data": data if isinstance(data, str | bytes) else "",
            "write": write if callable(write) else None}


def _read_stdin(method: str, size: int) -> object:
    stream: Any = sys.stdin
    if method.startswith("buffer."):
        stream, method = stream.buffer, method[len("buffer."):]
    result = getattr(stream, method)(size)
    if method == "readlines":
        result = list(result)
    return result


def _is_reference(value: object) -> bool:
    """A proxy for a student function, class or object: it says nothing about how they behave."""
    from .proxy import RemoteMethod, RemoteObject

    return isinstance(value, RemoteObject | RemoteMethod)


__all__ = [
    "HarnessSignal", "ProtocolViolation", "Refused", "Session", "StudentBaseException",
    "StudentException", "StudentImportFailed", "StudentLost", "TestTimeout", "ValueNotTransferable",
]
