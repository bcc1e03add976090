"""Trusted side: ``subprocess`` of the student's file, run in the student's sandbox.

A test that runs ``subprocess.run([sys.executable, "solution.py"], input=..., capture_output=True)``
(or ``Popen``, ``check_output``, ``-m solution``) gets a :class:`StudentProgram` instead of a
process of its own: the program runs in a fresh interpreter inside the student sandbox
(``Session.run_program``) and what the test reads (exit status, stdout, stderr, decoded as the
test asked) is that program's output, untrusted data. Any other program is still a real
``Popen``, which the audit hook refuses (``redirect.install_guard``).
"""

from __future__ import annotations

import inspect
import io
import locale
import os
import subprocess
from typing import TYPE_CHECKING, Any

from .session import Session

if TYPE_CHECKING:
    from .redirect import Redirects

_REAL_POPEN = subprocess.Popen

_POPEN_PARAMS = inspect.signature(_REAL_POPEN.__init__)


def popen_class(redirects: Redirects) -> type:
    class GuardedPopen(_REAL_POPEN):  # type: ignore[misc, valid-type]
        """``subprocess.Popen`` here: the student's file runs in the student sandbox; any other
        program is refused by the audit hook (see ``install_guard``)."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = _POPEN_PARAMS.bind(None, *args, **kwargs)
            except TypeError:
                return super().__new__(cls)  # let Popen report the bad call itself
            options = dict(bound.arguments)
            options.update(options.pop("kwargs", {}))
            program = redirects.program(options.get("args"), options)
            if program is None:
                return super().__new__(cls)
            return StudentProgram(redirects.session, program, options)

    GuardedPopen.__name__ = GuardedPopen.__qualname__ = "Popen"
    GuardedPopen.__module__ = "subprocess"
    return GuardedPopen


class StudentProgram:
    """What a test holds instead of a ``Popen`` of the student's file: runs it on first need
    (``communicate``, ``wait``, reading a pipe) with what the test wrote or gave as input."""

    def __init__(self, session: Session, program: tuple[list[str], list[str], list[str]],
                 options: dict[str, Any]) -> None:
        self._session = session
        self._flags, self._target, self._argv = program
        self.args = options.get("args")
        self.pid = 0
        self.returncode: int | None = None
        self._options = options
        self._text = bool(options.get("text") or options.get("universal_newlines")
                          or options.get("encoding") or options.get("errors"))
        self._encoding = options.get("encoding") or locale.getpreferredencoding(False)
        self._errors = options.get("errors") or "strict"
        self._pending = bytearray()
        self._done = False
        self._out = self._err = b""
        self.stdin = _PipeIn(self) if options.get("stdin") == subprocess.PIPE else None
        self.stdout = _PipeOut(self, "out") if options.get("stdout") == subprocess.PIPE else None
        self.stderr = _PipeOut(self, "err") if options.get("stderr") == subprocess.PIPE else None

    def _bytes(self, data: object) -> bytes:
        if isinstance(data, str):
            return data.encode(self._encoding, self._errors)
        return bytes(data)  # type: ignore[call-overload]

    def _text_of(self, data: bytes) -> str | bytes:
        if not self._text:
            return data
        wrapper = io.TextIOWrapper(io.BytesIO(data), encoding=self._encoding, errors=self._errors)
        return wrapper.read()

    def _input(self) -> bytes:
        source = self._options.get("stdin")
        if source == subprocess.PIPE:
            return bytes(self._pending)
        if source is None or source == subprocess.DEVNULL:
            return b""
        if isinstance(source, int):
            chunks = []
            while chunk := os.read(source, 1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        data = source.read()
        return self._bytes(data)

    def _run(self, timeout: float | None = None) -> None:
        if self._done:
            return
        env = self._options.get("env")
        if env is not None:
            env = {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}
        merge = self._options.get("stderr") == subprocess.STDOUT
        found = self._session.run_program(
            flags=self._flags, target=self._target, args=self._argv, stdin=self._input(),
            merge=merge, env=env, timeout=timeout)
        self._done = True
        self._out, self._err = found["out"], found["err"]
        if found["timeout"]:
            self.returncode = -9
            raise subprocess.TimeoutExpired(self.args or "", timeout or 0, self._text_of(self._out),
                                            self._text_of(self._err))
        self.returncode = found["rc"]
        self._deliver("stdout", self._out, 1)
        if not merge:
            self._deliver("stderr", self._err, 2)

    def _deliver(self, stream: str, data: bytes, default_fd: int) -> None:
        """Output the test did not capture goes where the real program's would have gone."""
        target = self._options.get(stream)
        if target == subprocess.PIPE or target == subprocess.DEVNULL or not data:
            return
        if target is None:
            os.write(default_fd, data)
        elif isinstance(target, int):
            os.write(target, data)
        elif hasattr(target, "fileno"):
            os.write(target.fileno(), data)

    def communicate(self, input: object = None,
                    timeout: float | None = None) -> tuple[Any, Any]:
        if input is not None:
            self._pending += self._bytes(input)
        self._run(timeout)
        out = self._text_of(self._out) if self._options.get("stdout") == subprocess.PIPE else None
        err = self._text_of(self._err) if self._options.get("stderr") == subprocess.PIPE else None
        return out, err

    def wait(self, timeout: float | None = None) -> int | None:
        self._run(timeout)
        return self.returncode

    def poll(self) -> int | None:
        self._run()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        pass  # it has finished by the time the test can signal it

    def terminate(self) -> None:
        pass

    def kill(self) -> None:
        pass

    def __enter__(self) -> StudentProgram:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self._run()


class _PipeIn:
    def __init__(self, program: StudentProgram) -> None:
        self._program = program
        self.closed = False

    def write(self, data: object) -> int:
        raw = self._program._bytes(data)
        self._program._pending += raw
        return len(data)  # type: ignore[arg-type]

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class _PipeOut:
    def __init__(self, program: StudentProgram, stream: str) -> None:
        self._program = program
        self._stream = stream
        self._buffer: Any = None
        self.closed = False

    def _opened(self) -> Any:
        if self._buffer is None:
            self._program._run()
            data = self._program._out if self._stream == "out" else self._program._err
            text = self._program._text_of(data)
            self._buffer = io.StringIO(text) if isinstance(text, str) else io.BytesIO(text)
        return self._buffer

    def read(self, size: int = -1) -> Any:
        return self._opened().read(size)

    def readline(self, size: int = -1) -> Any:
        return self._opened().readline(size)

    def readlines(self) -> list[Any]:
        return list(self._opened().readlines())

    def __iter__(self) -> Any:
        return iter(self._opened())

    def close(self) -> None:
        self.closed = True


__all__ = ["StudentProgram", "popen_class"]
