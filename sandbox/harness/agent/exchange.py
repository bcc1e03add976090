"""Trusted side: how values and side effects cross between a test and its student process.

The half of :class:`~.session.Session` that the round trip uses on either end of a request
(mixed into ``Session``, whose ``__init__`` sets up the state): the codec policies (how a test's
function, a student proxy or a helper class goes out; how the student's handles, methods and
exception classes come back as proxies and classes), the student's exception rebuilt for the
test to see, its output, warnings and log records replayed into the test (``capsys``,
``pytest.warns``, ``caplog``), and the student side's own requests served: a call of a
function the test passed, of the test's patched ``open()``, or a read of the test's
``sys.stdin``. Everything the student side sends is checked for shape here; nothing of it is run.
"""

from __future__ import annotations

import builtins
import contextlib
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from .codec import NOTHING, SAFE_BUILTINS, Encoder, HelperRegistry, Tag
from .decoder import Decoder
from .errors import (
    ExceptionClasses,
    HarnessSignal,
    StudentBaseException,
    StudentException,
    make_exception_class,
    path_of,
)
from .shared import Mirror
from .wire import Message, ProtocolError, dumps

if TYPE_CHECKING:
    from .session import Session

MAX_TEXT = 10_000  # characters of a repr()/str() of a student object kept
MAX_OUTPUT = 64 * 1024  # characters of student stdout/stderr forwarded per reply
HANDLE_KINDS = ("obj", "callable", "class", "iter", "module")
MAX_CLASS_NAME = 200  # characters of a student class's __name__, __qualname__ or __module__
MAX_WARNINGS = 50
MAX_ATTRS = 64  # attributes of a student exception object set on its rebuilt one
MAX_RECORDS = 100  # log records of one reply
# What the student side may ask of the test's sys.stdin (``student.RemoteStdin``).
STDIN_METHODS = frozenset({"read", "readline", "readlines", "buffer.read", "buffer.readline",
                           "buffer.readlines"})


class Exchange:
    """What ``Session`` does with what crosses the channel (see the module docstring)."""

    helpers: HelperRegistry
    files: Mirror | None
    memory_error: bool
    exception_classes: ExceptionClasses
    _pending_output: list[tuple[str, str]]
    _proxies: dict[int, Any]
    _methods: dict[tuple[int | None, str], Any]
    _callbacks: list[Callable[..., Any]]
    _callback_ids: dict[int, int]

    if TYPE_CHECKING:
        def _violate(self, why: str) -> NoReturn: ...

    # -- the student side's requests, its warnings and log records ------------------------

    def _serve(self, request: Message) -> Message:
        """Answer a request of the student side: call a function the test passed (``callback``)
        or read the test's ``sys.stdin`` (``stdin``). What the student printed before asking
        comes with the request and is written out first, so output keeps its order."""
        self._take_output(request)
        self._flush_output()
        if self.files is None:
            return self._answer(request)
        self.files.receive(request)
        return self.files.attach(self._answer(request))

    def _answer(self, request: Message) -> Message:
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
        from .proxy import RemoteMethod, RemoteObject, state

        if isinstance(x, RemoteObject):
            found = state(x)
            if found.session is not self:
                raise TypeError("an object from another test's student process")
            return {"h": found.hid}
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
        from .proxy import RemoteMethod

        session = cast("Session", self)  # an Exchange is only ever a Session's half
        if "h" in tag:
            return self._handle(tag)
        if "m" in tag:
            pair = tag["m"]
            if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], str)
                    or not (pair[0] is None or type(pair[0]) is int)):
                raise ProtocolError("bad method reference")
            key = (pair[0], pair[1][:200])
            if key not in self._methods:
                self._methods[key] = RemoteMethod(session, *key)
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

    def _handle(self, tag: Tag, of_instance: bool = False) -> object:
        """The proxy of student handle ``tag`` (made once per handle): a class of its own for
        a student class, an instance of that class for an object whose class came along
        (``"c"``), else a :class:`~.proxy.RemoteInstance` or :class:`~.proxy.RemoteIterator`."""
        from .proxy import RemoteClass, RemoteInstance, RemoteIterator, RemoteObject, State

        hid, kind, type_name = tag.get("h"), tag.get("k"), tag.get("t")
        if type(hid) is not int or kind not in HANDLE_KINDS or not isinstance(type_name, str) \
                or (of_instance and (kind != "class" or "c" in tag)):
            raise ProtocolError("bad handle")
        assert isinstance(hid, int) and isinstance(kind, str)
        proxy = self._proxies.get(hid)
        if proxy is not None:
            return proxy
        found = State(cast("Session", self), hid, kind, type_name[:200],
                      as_text(tag.get("n"))[:200])
        if kind == "class":
            name, qualname, module = class_names(tag.get("q"))
            namespace = {"__slots__": (), "__qualname__": qualname, "__module__": module,
                         "__doc__": RemoteObject.__dict__["__doc__"], "_grader_class": found}
            base = RemoteIterator if tag.get("i") is True else RemoteInstance
            proxy = type.__new__(RemoteClass, name, (base,), namespace)
        else:
            cls: type = RemoteIterator if kind == "iter" else RemoteInstance
            if isinstance(tag.get("c"), dict) and kind != "module":
                made = self._handle(tag["c"], of_instance=True)
                if not isinstance(made, RemoteClass):
                    raise ProtocolError("the class of a student object is not a class")
                if issubclass(made, RemoteIterator) == (kind == "iter"):
                    cls = made
            proxy = object.__new__(cls)
            object.__setattr__(proxy, "_grader_state", found)
        self._proxies[hid] = proxy
        return proxy

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
        message = as_text(info.get("msg"))[:MAX_TEXT]
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
        self._set_attributes(error, info.get("attrs"))
        trace = as_text(info.get("tb"))[:MAX_TEXT]
        if isinstance(error, MemoryError):
            self.memory_error = True
        if isinstance(error, StudentBaseException):
            error.student_message = message  # str() as the student's class gave it
            error.student_traceback = trace
        if trace:
            error.add_note(trace)
        return error

    def _set_attributes(self, error: BaseException, encoded: object) -> None:
        """The attributes the student's exception object held (``info.value.shortfall``),
        decoded as any value from the student is; a name the exception cannot take is left
        out, as is anything that does not decode."""
        if encoded is None:
            return
        try:
            attrs, _ = Decoder(self.helpers, self._decode_tag).decode(encoded)
        except ProtocolError:
            return
        if not isinstance(attrs, dict):
            return
        for name, value in list(attrs.items())[:MAX_ATTRS]:
            if (type(name) is str and name.isidentifier() and not name.startswith("__")
                    and not hasattr(StudentBaseException, name)):  # never the harness's own
                with contextlib.suppress(Exception):
                    setattr(error, name, value)


def no_pickle(cls: type) -> NoReturn:
    """Pickling a class would import the module it names (the student's) to check it; a
    student class, and so each of its objects, is refused instead (``copy`` does not ask)."""
    raise TypeError(f"cannot pickle the student's class {cls.__name__} or its objects")


def class_names(found: object) -> tuple[str, str, str]:
    """A student class's ``__name__``, ``__qualname__`` and ``__module__`` from the student
    side's ``[name, qualname, module]``: each kept only if it is an identifier (a dotted name
    for the other two; ``<locals>`` may be part of a qualified name) of at most
    ``MAX_CLASS_NAME`` characters, else ``StudentClass``, the name, and ``<student>``."""
    name, qualname, module = found if isinstance(found, list) and len(found) == 3 else [""] * 3

    def fits(text: object, part: Callable[[str], bool]) -> bool:
        return type(text) is str and 0 < len(text) <= MAX_CLASS_NAME and all(
            part(p) for p in text.split("."))

    name = name if fits(name, str.isidentifier) and "." not in name else "StudentClass"
    qualname = qualname if fits(qualname, lambda p: p.isidentifier() or p == "<locals>") \
        else name
    module = module if fits(module, str.isidentifier) else "<student>"
    return name, qualname, module


def as_text(value: object) -> str:
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


__all__ = ["MAX_TEXT", "Exchange", "as_text", "no_pickle"]
