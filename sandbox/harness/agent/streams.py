"""Student side: where the student's output goes, and where its ``sys.stdin`` reads from.

While a request is served, ``sys.stdout``/``sys.stderr`` are bounded sinks whose text travels back
with the reply (and with any request made in the middle of it, so the test sees prints and
``input()`` prompts in the order they were written). ``sys.stdin`` is a :class:`RemoteStdin`:
every read is a read of the test's own ``sys.stdin`` on the trusted side. Like everything in the
student process, this is under the student's control and only makes the honest case work.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import operator
from collections.abc import Iterator
from typing import Any, Protocol

MAX_OUTPUT = 64 * 1024


class Asker(Protocol):
    def ask(self, message: dict[str, Any], args: object) -> Any: ...


class Sink(io.TextIOBase):
    """A bounded stand-in for stdout/stderr while student code runs."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = MAX_OUTPUT - self.size
        self.parts.append(text[: max(room, 0)])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    def getvalue(self) -> str:
        more = f"\n[... {self.dropped} more characters]\n" if self.dropped else ""
        return "".join(self.parts) + more

    def drain(self) -> str:
        """What was written since the last drain (the size cap counts across drains)."""
        text = "".join(self.parts)
        self.parts.clear()
        return text


# The sinks of the requests being served, innermost last: a request the student side makes in
# the middle of one (a callback, a read of stdin) carries what was printed so far, so the test
# sees output and prompts in the order the student's code wrote them.
SINKS: list[tuple[Sink, Sink]] = []


@contextlib.contextmanager
def captured() -> Iterator[dict[str, str]]:
    out, err = Sink(), Sink()
    found: dict[str, str] = {}
    SINKS.append((out, err))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            yield found
        finally:
            SINKS.pop()
            more = f"\n[... {out.dropped} more characters]\n" if out.dropped else ""
            found.update(out=out.drain() + more, err=err.drain())


def drained() -> dict[str, str]:
    if not SINKS:
        return {}
    out, err = SINKS[-1]
    return {"out": out.drain(), "err": err.drain()}


def builtin_exception(info: object, default: type[BaseException]) -> type[BaseException]:
    """The builtin exception class a trusted-side error names (``mro``), else ``default``."""
    mro = info.get("mro") if isinstance(info, dict) else None
    for item in mro if isinstance(mro, list) else ():
        if isinstance(item, list) and len(item) == 2 and item[0] == "builtins":
            found = getattr(builtins, str(item[1]), None)
            if isinstance(found, type) and issubclass(found, Exception):
                return found
    return default


class RemoteStdin(io.TextIOBase):
    """``sys.stdin`` of the student process: every read is a read of the test's ``sys.stdin``
    (a ``StringIO`` the test installed, or pytest's own, which refuses reading while capturing)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, agent: Asker, prefix: str = "") -> None:
        self._agent = agent
        self._prefix = prefix

    def readable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def _read(self, method: str, size: object) -> Any:
        size = -1 if size is None else operator.index(size)  # type: ignore[arg-type]
        return self._agent.ask({"op": "stdin", "m": self._prefix + method, "n": size}, None)

    def read(self, size: int | None = -1) -> Any:
        return self._read("read", size)

    def readline(self, size: int | None = -1) -> Any:  # type: ignore[override]
        return self._read("readline", size)

    def readlines(self, hint: int | None = -1) -> Any:  # type: ignore[override]
        return self._read("readlines", hint)

    @property
    def buffer(self) -> RemoteStdin:
        return RemoteStdin(self._agent, "buffer.")


class LogCollector:
    """A handler on the student's root logger: the records of a request travel back with the
    reply and are handled again by the test's loggers (``caplog``). Being a handler of the
    root logger, it also keeps ``logging``'s last-resort stderr output and ``basicConfig`` off,
    as pytest's own handlers do under plain pytest."""

    MAX_RECORDS = 100

    def __init__(self) -> None:
        import logging

        class Handler(logging.Handler):
            def emit(inner, record: logging.LogRecord) -> None:  # noqa: N805
                if len(self.records) < self.MAX_RECORDS:
                    text = inner.formatter.formatException(record.exc_info) \
                        if record.exc_info and inner.formatter else None
                    if record.exc_info and text is None:
                        text = logging.Formatter().formatException(record.exc_info)
                    self.records.append([str(record.name), int(record.levelno),
                                         record.getMessage()[:10_000], str(record.pathname),
                                         int(record.lineno), str(record.funcName), text])

        self.records: list[list[Any]] = []
        logging.getLogger().addHandler(Handler())

    def take(self) -> list[list[Any]]:
        found, self.records = self.records, []
        return found


class TestFile(io.StringIO):
    """What ``open()`` gives the student's code while the test patched ``builtins.open``
    (``mock.mock_open``): the text the test's file gave, and writes passed on to it."""

    def __init__(self, data: str, write: Any) -> None:
        super().__init__(data)
        self._test_write = write

    def write(self, text: str) -> int:
        if self._test_write is not None:
            self._test_write(text)
        return super().write(text)


class TestBinaryFile(io.BytesIO):
    def __init__(self, data: bytes, write: Any) -> None:
        super().__init__(data)
        self._test_write = write

    def write(self, data: Any) -> int:
        if self._test_write is not None:
            self._test_write(bytes(data))
        return super().write(data)


def file_opener(agent: Asker) -> Any:
    """The adapter of a patched ``builtins.open`` (``ambient.Applier``): ask the test's."""

    def adapt(replacement: Any) -> Any:
        index = getattr(replacement, "index", None)

        def open_through_test(*args: Any, **kwargs: Any) -> Any:
            found = agent.ask({"op": "open", "cb": index}, [list(args), dict(kwargs)])
            if not isinstance(found, dict):
                raise OSError("the test's open() gave no file")
            data, write = found.get("data"), found.get("write")
            if isinstance(data, bytes):
                return TestBinaryFile(data, write)
            return TestFile(data if isinstance(data, str) else "", write)

        return open_through_test

    return adapt


__all__ = ["MAX_OUTPUT", "LogCollector", "RemoteStdin", "Sink", "TestBinaryFile", "TestFile",
           "builtin_exception", "captured", "drained", "file_opener"]
