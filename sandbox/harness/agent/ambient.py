"""Process state a test sets up and the student's code reads, mirrored into the student process.

Under plain pytest the test and the student's code share one interpreter, so what a test patches
(``monkeypatch.setattr("builtins.input", ...)``, ``mock.patch("random.randint")``,
``sys.argv``, ``random.seed(7)``, ``monkeypatch.setenv``, ``monkeypatch.chdir(tmp_path)``) is
what the student's code sees. Here they are two processes. Before every request, the trusted
side compares that state with how it was when the test process started (:class:`Tracker`) and
sends what differs since the last request; the student side applies it (:func:`apply`). State
flows one way only, test to student: nothing the student process does changes the test's
process state (a student that could set the test's random state could choose the test's
inputs). The working folder is mirrored only when the test moved into one of its temporary
folders, whose files travel both ways as data (``shared.py``).

``MIRRORED`` is the registry: module → attributes whose replacement is mirrored. A replacement
that is a function (a ``lambda``, a ``Mock``) reaches the student process as a callback, so the
test's own function runs here, on the trusted side, with the student's arguments (as any
function a test passes to student code does). ``sys.stdin`` is not in the table: the student
process always reads the test's ``sys.stdin`` through the channel (``student.RemoteStdin``), so a
``StringIO`` a test installs is read, and pytest's "reading from stdin while output is captured"
error is raised, exactly as under plain pytest. Output needs no mirroring: what the student's code
prints is written to the test's ``sys.stdout``/``sys.stderr`` (``capsys``, ``redirect_stdout``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from typing import Any

from .shared import ROOT

MIRRORED: dict[str, tuple[str, ...]] = {
    "builtins": ("input", "print", "open"),
    "random": (
        "random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
        "gauss", "normalvariate", "triangular", "getrandbits", "seed",
    ),
    "time": (
        "sleep", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
        "perf_counter_ns", "localtime", "gmtime", "strftime", "ctime", "asctime",
    ),
    "os": ("getenv", "getcwd", "cpu_count", "urandom"),
}
MAX_ENV = 64 * 1024  # characters of changed environment sent at once
MAX_LOGGERS = 200  # loggers whose level is compared (caplog.set_level, caplog.at_level)
_MISSING = object()


def _shared(path: str) -> bool:
    """A path in the temporary folders both sides have (``shared.ROOT``)."""
    return (path == ROOT or path.startswith(ROOT + "/")) and "/../" not in path + "/"


def _levels() -> dict[str, int]:
    """Levels of the root logger ("") and of the named loggers that exist."""
    logging = sys.modules.get("logging")
    if logging is None:
        return {}
    found = {"": logging.getLogger().level}
    for name, logger in list(logging.Logger.manager.loggerDict.items())[:MAX_LOGGERS]:
        if isinstance(logger, logging.Logger):
            found[name] = logger.level
    return found


class Tracker:
    """Trusted side: what the test changed since the process started, sent when it changes.

    It is consulted before every request, so each check is cheap: identity of the mirrored
    attributes, equality of the environment's raw dict, and the random generator's state read
    only after ``random.seed`` or ``random.setstate`` was called (this wraps both, once per
    process: make one per test process, before the test module is imported).
    """

    def __init__(self) -> None:
        random = importlib.import_module("random")
        self._random_dirty = False
        for name in ("seed", "setstate"):
            setattr(random, name, self._marking(getattr(random, name)))
        self._watched: list[tuple[str, Any, str, Any]] = []
        for module_name, names in MIRRORED.items():
            module = importlib.import_module(module_name)
            for name in names:
                dotted = f"{module_name}.{name}"
                self._watched.append((dotted, module, name, getattr(module, name, _MISSING)))
        self.argv = list(sys.argv)
        self.environ = dict(os.environ)
        self._raw_env = self._raw_environ()
        self._env_state: tuple[dict[Any, Any] | None, dict[str, Any] | None] = (self._raw_env,
                                                                                None)
        self._random_state: object = None
        self.levels = _levels()
        self.cwd = os.getcwd()
        self._sent: dict[str, Any] = {}

    def _marking(self, function: Any) -> Any:
        @functools.wraps(function)
        def marked(*args: Any, **kwargs: Any) -> Any:
            self._random_dirty = True
            return function(*args, **kwargs)

        return marked

    @staticmethod
    def _raw_environ() -> dict[Any, Any] | None:
        raw = getattr(os.environ, "_data", None)
        return dict(raw) if isinstance(raw, dict) else None

    def _env(self) -> dict[str, Any] | None:
        raw = getattr(os.environ, "_data", None)
        cached_raw, cached = self._env_state
        if isinstance(raw, dict) and raw == cached_raw:
            return cached
        env = dict(os.environ)
        found = None
        if env != self.environ:
            changed = {k: v for k, v in env.items() if self.environ.get(k) != v}
            removed = sorted(k for k in self.environ if k not in env)
            if sum(len(k) + len(v) for k, v in changed.items()) <= MAX_ENV:
                found = {"set": changed, "unset": removed}
        self._env_state = (dict(raw) if isinstance(raw, dict) else None, found)
        return found

    def current(self) -> dict[str, Any]:
        """The state to mirror now: ``patch`` (dotted name → replacement), ``argv``, ``env``,
        ``random`` (the generator's state once seeded), ``levels`` (loggers), each only when it
        differs from the start."""
        patched: dict[str, Any] = {}
        for dotted, module, name, original in self._watched:
            value = getattr(module, name, _MISSING)
            if value is not original and value is not _MISSING:
                patched[dotted] = value
        state: dict[str, Any] = {"patch": patched}
        argv = sys.argv
        if isinstance(argv, list) and argv != self.argv and all(isinstance(a, str) for a in argv):
            state["argv"] = list(argv)
        env = self._env()
        if env is not None:
            state["env"] = env
        if self._random_dirty:
            self._random_dirty = False
            try:
                self._random_state = sys.modules["random"].getstate()
            except Exception:  # a test replaced random.getstate: nothing to mirror
                self._random_state = None
        if self._random_state is not None:
            state["random"] = self._random_state
        levels = {n: v for n, v in _levels().items() if self.levels.get(n, 0) != v}
        if levels:
            state["levels"] = levels
        try:
            cwd = os.getcwd()
        except OSError:  # the test removed its own working folder
            cwd = self.cwd
        if cwd != self.cwd and _shared(cwd):  # monkeypatch.chdir(tmp_path)
            state["cwd"] = cwd
        return state

    def changes(self) -> dict[str, Any] | None:
        """What to send with the next request: the parts of ``current()`` that changed since the
        last one sent, or None when nothing did."""
        state = self.current()
        delta: dict[str, Any] = {}
        sent_patch: dict[str, Any] = self._sent.get("patch", {})
        patch = state["patch"]
        set_now = {k: v for k, v in patch.items() if sent_patch.get(k, _MISSING) is not v}
        reset = sorted(k for k in sent_patch if k not in patch)
        if set_now:
            delta["set"] = set_now
        if reset:
            delta["reset"] = reset
        for key in ("argv", "env", "random", "levels", "cwd"):
            now, sent = state.get(key), self._sent.get(key)
            if now is not sent and now != sent:
                delta[key] = now
        self._sent = state
        return delta or None


class Applier:
    """Student side: applies what the trusted side sent, keeping the originals to restore.

    ``adapters`` turn a replacement into what the student's code calls instead (a patched
    ``open`` returns a file built from what the test's ``open`` gave, see ``streams.py``).
    """

    def __init__(self, adapters: dict[str, Any] | None = None) -> None:
        self.argv = list(sys.argv)
        self.environ = dict(os.environ)
        self.saved: dict[str, Any] = {}
        self.adapters = adapters or {}
        self.levels: dict[str, int] = {}
        self.cwd = os.getcwd()

    def apply(self, delta: object) -> None:
        if not isinstance(delta, dict):
            return
        for dotted in delta.get("reset") or []:
            if isinstance(dotted, str) and dotted in self.saved:
                module_name, _, name = dotted.partition(".")
                setattr(sys.modules[module_name], name, self.saved.pop(dotted))
        patches = delta.get("set")
        for dotted, value in (patches.items() if isinstance(patches, dict) else ()):
            module_name, _, name = str(dotted).partition(".")
            if name not in MIRRORED.get(module_name, ()):
                continue
            module = importlib.import_module(module_name)
            if dotted not in self.saved:
                self.saved[dotted] = getattr(module, name, None)
            adapter = self.adapters.get(dotted)
            setattr(module, name, adapter(value) if adapter is not None else value)
        if "argv" in delta:
            argv = delta["argv"]
            sys.argv = [str(a) for a in argv] if isinstance(argv, list) else list(self.argv)
        if "env" in delta:
            self._environ(delta["env"])
        if "random" in delta:
            self._random(delta["random"])
        if "levels" in delta:
            self._levels(delta["levels"])
        if "cwd" in delta:
            self._chdir(delta["cwd"])

    def _chdir(self, cwd: object) -> None:
        """The test's working folder, when it is one of its temporary folders (whose files
        ``shared.Mirror`` wrote before this); back to the student's own otherwise."""
        target = cwd if isinstance(cwd, str) and _shared(cwd) else self.cwd
        try:
            os.chdir(target)
        except OSError:
            with contextlib.suppress(OSError):
                os.chdir(self.cwd)

    def _levels(self, levels: object) -> None:
        """Logger levels the test set (``caplog.set_level``): records below them are not made."""
        import logging

        wanted = levels if isinstance(levels, dict) else {}
        for name in [n for n in self.levels if n not in wanted]:
            logging.getLogger(name or None).setLevel(self.levels.pop(name))
        for name, level in wanted.items():
            if isinstance(name, str) and type(level) is int:
                logger = logging.getLogger(name or None)
                self.levels.setdefault(name, logger.level)
                logger.setLevel(level)

    def _environ(self, env: object) -> None:
        wanted = dict(self.environ)
        if isinstance(env, dict):
            changed, removed = env.get("set"), env.get("unset")
            if isinstance(changed, dict):
                wanted.update({str(k): str(v) for k, v in changed.items()})
            for key in removed if isinstance(removed, list) else ():
                wanted.pop(str(key), None)
        for key in [k for k in os.environ if k not in wanted]:
            del os.environ[key]
        for key, value in wanted.items():
            if os.environ.get(key) != value:
                os.environ[key] = value

    @staticmethod
    def _random(state: object) -> None:
        if state is None:
            return
        import random

        try:
            version, internal, gauss = state  # type: ignore[misc]
            random.setstate((int(version), tuple(int(i) for i in internal), gauss))  # type: ignore[has-type]
        except (TypeError, ValueError):
            pass  # not a state of this Python's generator: the student keeps its own


__all__ = ["MIRRORED", "Applier", "Tracker"]
