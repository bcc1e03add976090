"""Entry point of the student sandbox: import the student module once, then serve requests.

Everything in this process is under the student's control (their module can patch this code),
so nothing here is relied on for grading: it only makes the honest case work. The trusted side
validates every byte it receives.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import importlib
import json
import operator
import os
import resource
import signal
import socket
import sys
import traceback
import types
import warnings
from collections.abc import Callable
from typing import Any

from .ambient import Applier
from .codec import NOTHING, SAFE_BUILTINS, Encoder, HelperRegistry, Tag
from .decoder import Decoder
from .introspect import OPERATIONS, class_info
from .scripts import run_code, run_doctests, run_program
from .shared import Mirror
from .streams import LogCollector, RemoteStdin, builtin_exception, captured, drained, file_opener
from .tracer import LineTracer
from .wire import ChannelClosed, Message, Peer, ProtocolError, dumps

HERE = os.path.dirname(os.path.abspath(__file__))
_HIDDEN_FRAMES = (HERE, os.path.dirname(importlib.__file__), "<frozen ")
MAX_TRACEBACK = 8000
MAX_WARNINGS = 50  # warnings of one request sent back to be issued again in the test


def _enter(obj: Any) -> Any:
    return obj.__enter__()


def _exit(obj: Any, kind: Any = None, args: Any = ()) -> Any:
    """``obj.__exit__`` with the test's exception rebuilt here (its class, or the nearest one
    that can travel, and its arguments); its traceback stays on the test's side."""
    if kind is None or not (isinstance(kind, type) and issubclass(kind, BaseException)):
        return obj.__exit__(None, None, None)
    try:
        value = kind(*args) if isinstance(args, list | tuple) else kind()
    except Exception:
        value = kind.__new__(kind)
    return obj.__exit__(kind, value, None)


def _isinstance(cls: Any, obj: object) -> bool:
    return isinstance(obj, cls)


def _issubclass(sub: Any, cls: Any) -> bool:
    return isinstance(sub, type) and issubclass(sub, cls)


DUNDERS: dict[str, Callable[..., Any]] = {
    "len": len, "bool": bool, "iter": iter, "repr": repr, "str": str, "hash": hash, "dir": dir,
    "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge, "neg": operator.neg, "pos": operator.pos,
    "abs": operator.abs, "invert": operator.invert, "index": operator.index, "int": int,
    "float": float, "enter": _enter, "exit": _exit, "isinstance": _isinstance,
    "copy": copy.copy, "deepcopy": copy.deepcopy,
    "issubclass": _issubclass,
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "matmul": operator.matmul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "lshift": operator.lshift, "rshift": operator.rshift,
}


class _Stop(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


def student_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` with the harness's own frames left out."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_HIDDEN_FRAMES)]
    text = "".join(traceback.format_exception_only(type(exc), exc))
    if frames:
        text = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
                + text)
    return text[-MAX_TRACEBACK:]


class _Callback:
    """A function of the test, called back over the channel."""

    def __init__(self, agent: Agent, index: int) -> None:
        self.agent = agent
        self.index = index

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.agent.ask({"op": "callback", "cb": self.index}, [list(args), dict(kwargs)])


class Agent:
    def __init__(self, peer: Peer, module_name: str, helpers: HelperRegistry) -> None:
        self.peer = peer
        self.module_name = module_name
        self.helpers = helpers
        self.tracer: LineTracer | None = None  # set by ``serve`` when the test is traced
        self.module: types.ModuleType | None = None
        self.handles: dict[int, object] = {}
        self.handle_ids: dict[int, int] = {}
        self.ambient = Applier({"builtins.open": file_opener(self)})
        self.files = Mirror()  # the test's temporary folders (``shared.py``)
        self.logs: LogCollector | None = None

    def serve(self) -> None:
        # The module is imported when the test imports it ("import"): a script that reads
        # input() at import time then reads what the test prepared, and a test that only runs
        # the file as a program never imports it at all.
        self.peer.send({"op": "hello", "ok": True})
        while True:
            try:
                message = self.peer.recv()
            except (ChannelClosed, ProtocolError):
                return
            self.peer.serve_one(message, self.handle)

    # -- requests --------------------------------------------------------------------------

    def ask(self, message: Message, args: object) -> Any:
        """A request of the student side (a callback, a read of stdin): its result, or the
        builtin exception the trusted side reported (``RuntimeError`` for any other)."""
        originals: list[object] = []
        if args is not None:
            graph, originals = self.encoder().encode(args)
            message = {**message, "a": graph}
        reply = self.peer.request(self.files.attach({**message, **drained()}), self.handle)
        self.files.receive(reply)
        root, _ = Decoder(self.helpers, self.decode_tag, originals).decode(reply.get("v"))
        if reply.get("ok") is not True:
            info = reply.get("exc")
            text = info.get("msg") if isinstance(info, dict) else None
            raise builtin_exception(info, RuntimeError)(str(text or "the test's callback failed"))
        return root[0] if isinstance(root, list) and root else None

    def import_module(self, mode: object) -> Message:
        """Import (``first``), re-import (``fresh``) or ``reload`` the student module."""
        with captured() as output:
            try:
                if mode == "reload" and self.module is not None:
                    self.module = importlib.reload(self.module)
                elif mode == "fresh" or self.module is None:
                    sys.modules.pop(self.module_name, None)
                    self.module = importlib.import_module(self.module_name)
                doc = getattr(self.module, "__doc__", None)
                reply: Message = {"ok": True, "doc": doc[:MAX_TRACEBACK] if isinstance(doc, str)
                                  else None}
            except BaseException as exc:  # SyntaxError, SystemExit at import, anything
                reply = {"ok": False, "syntax": isinstance(exc, SyntaxError),
                         "exc": {"tb": student_traceback(exc)}}
        return {**reply, **output}

    def handle(self, message: Message) -> Message:
        """Answer a request of the test, with the test's files written before and the
        student's changes to them sent back with the reply."""
        self.files.receive(message)
        return self.files.attach(self._handle(message))

    def _handle(self, message: Message) -> Message:
        if "env" in message:
            with contextlib.suppress(Exception):
                delta, _ = Decoder(self.helpers, self.decode_tag).decode(message["env"])
                self.ambient.apply(delta)
        if message.get("op") == "import":
            return self.import_module(message.get("mode"))
        sources: dict[int, int] = {}
        root: Any = None
        stop = False
        if self.logs is None and "logging" in sys.modules:  # the student's code uses logging
            self.logs = LogCollector()
        with captured() as output, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if "a" in message:
                    root, objs = Decoder(self.helpers, self.decode_tag).decode(message["a"])
                    sources = {id(o): i for i, o in enumerate(objs)}
                result = self._perform(message, root)
                error = None
            except _Stop as done:
                result, error, stop = done.value, None, True
            except BaseException as exc:
                result, error = None, self.exception_info(exc)
        reply: Message = {"ok": error is None, **output}
        if caught:
            reply["w"] = self.warnings_info(caught)
        if self.logs is not None and self.logs.records:
            reply["log"] = self.logs.take()
        if stop:
            reply["stop"] = True
        if error is not None:
            reply["exc"] = error
        try:
            reply["v"] = self.encoder(sources).encode([result, root])[0]
            dumps(reply)  # too large to send is decided here, not in the middle of sending
        except BaseException as exc:
            # Not an exception of the student code: the test must not be able to catch it.
            reply = {"ok": False, "untransferable": f"{type(exc).__name__}: {exc}"[:2000],
                     "v": NOTHING}
        return reply

    def _perform(self, message: Message, root: Any) -> Any:
        op = message.get("op")
        if op == "public":
            names = getattr(self.module, "__all__", None)
            if not isinstance(names, list | tuple):
                names = [n for n in dir(self.module) if not n.startswith("_")]
            return [n for n in names if isinstance(n, str)]
        if op == "cpu":  # a replayed test starts (trusted.py): its own CPU time from now
            if message.get("own") is True and self.tracer is not None:
                self.tracer.restart()  # the evidence is the lines of the test itself
            seconds = message.get("s")
            if isinstance(seconds, int | float) and 0 < seconds < 1e6:
                used = resource.getrusage(resource.RUSAGE_SELF)
                _, hard = resource.getrlimit(resource.RLIMIT_CPU)
                # Whole seconds, as any RLIMIT_CPU: this test gets its own and less than one more.
                want = -int(-(used.ru_utime + used.ru_stime + seconds) // 1)
                if hard != resource.RLIM_INFINITY:
                    want = min(want, hard)
                resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
            return None
        if op == "dunder":
            name = message.get("n")
            if name == "next":
                try:
                    return next(root[0])
                except StopIteration as exc:
                    raise _Stop(exc.value) from None
            function = (DUNDERS.get(name) or OPERATIONS.get(name)) if isinstance(name, str) \
                else None
            if function is None:
                raise ValueError(f"unknown operation {name!r}")
            return function(*root)
        if op == "run":  # runpy.run_path / run_module of the student's file
            return run_code(str(message.get("kind")), str(message.get("target")),
                            _opt_str(message.get("run_name")), root[0] if root else None,
                            message.get("alter_sys") is True)
        if op == "doctest":  # doctest.testmod(solution)
            options = root[0] if root and isinstance(root[0], dict) else {}
            return run_doctests(self._target(None), options)
        if op == "program":  # subprocess: [sys.executable, "solution.py", ...]
            stdin, env = root
            return run_program(_strs(message.get("flags")), _strs(message.get("target")),
                               _strs(message.get("args")), bytes(stdin),
                               message.get("merge") is True, env,
                               _opt_float(message.get("timeout")))
        target = self._target(message.get("t"))
        name = message.get("n")
        if op == "call":
            function = target if name is None else getattr(target, str(name))
            args, kwargs = root
            return function(*args, **kwargs)
        if not isinstance(name, str):
            raise ValueError("missing attribute name")
        if op == "getattr":
            return getattr(target, name)
        if op == "setattr":
            setattr(target, name, root[0])
            return None
        if op == "delattr":
            delattr(target, name)
            return None
        raise ValueError(f"unknown request {op!r}")

    def _target(self, ref: object) -> Any:
        if ref is None:
            if self.module is None:
                self.module = importlib.import_module(self.module_name)
            return self.module
        if type(ref) is not int or ref not in self.handles:
            raise LookupError(f"no student object {ref!r}")
        return self.handles[ref]

    def warnings_info(self, caught: list[warnings.WarningMessage]) -> list[list[Any]]:
        found = []
        for w in caught[:MAX_WARNINGS]:
            category = w.category if isinstance(w.category, type) else UserWarning
            found.append([[[c.__module__, c.__qualname__] for c in category.__mro__[:32]
                           if c is not object], str(w.message)[:MAX_TRACEBACK],
                          str(w.filename)[:300], w.lineno if type(w.lineno) is int else 0])
        return found

    def exception_info(self, exc: BaseException) -> dict[str, Any]:
        try:
            message = str(exc)
        except BaseException:
            message = f"<{type(exc).__name__}>"
        info: dict[str, Any] = {
            "mro": [[c.__module__, c.__qualname__] for c in type(exc).__mro__[:32]
                    if c is not object],
            "msg": message[:MAX_TRACEBACK],
            "tb": student_traceback(exc),
        }
        with contextlib.suppress(BaseException):
            info["args"] = self.encoder().encode(list(exc.args))[0]
        with contextlib.suppress(BaseException):  # what the exception holds: e.shortfall
            attrs = {k: v for k, v in vars(exc).items()
                     if type(k) is str and not k.startswith("__")}
            if attrs:
                info["attrs"] = self.encoder().encode(attrs)[0]
        return info

    # -- codec policies --------------------------------------------------------------------

    def encoder(self, sources: dict[int, int] | None = None) -> Encoder:
        return Encoder(self.helpers, self.encode_other, sources)

    def _register(self, obj: object) -> int:
        hid = self.handle_ids.get(id(obj))
        if hid is None:
            hid = len(self.handles) + 1
            self.handles[hid] = obj
            self.handle_ids[id(obj)] = hid
        return hid

    def encode_other(self, x: object) -> Tag:
        if isinstance(x, _Callback):
            return {"cb": x.index}
        name = getattr(x, "__name__", None) if isinstance(x, type | types.BuiltinFunctionType) \
            else None
        if isinstance(name, str) and name in SAFE_BUILTINS and getattr(builtins, name, None) is x:
            return {"b": name}
        if isinstance(x, type):
            path = self.helpers.class_path(x)
            if path is not None:
                return {"hc": path}
            if issubclass(x, BaseException):
                return {"x": [[c.__module__, c.__qualname__] for c in x.__mro__[:32]
                              if c is not object]}
        if isinstance(x, types.MethodType) and not isinstance(x.__self__, type):
            return {"m": [self._register(x.__self__), x.__func__.__name__]}
        if isinstance(x, type):
            kind = "class"
        elif isinstance(x, types.ModuleType):
            kind = "module"
        elif hasattr(type(x), "__next__"):
            kind = "iter"
        elif callable(x):
            kind = "callable"
        else:
            kind = "obj"
        label = getattr(x, "__name__", "") if kind != "obj" else ""
        return {"h": self._register(x), "k": kind, "t": type(x).__name__,
                "n": label if isinstance(label, str) else "",
                **class_info(x, kind, self.encode_other)}

    def decode_tag(self, tag: Tag) -> object:
        if "h" in tag:
            return self._target(tag["h"] if type(tag["h"]) is int else -1)
        if "m" in tag and isinstance(tag["m"], list) and len(tag["m"]) == 2:
            return getattr(self._target(tag["m"][0]), str(tag["m"][1]))
        if "cb" in tag and type(tag["cb"]) is int:
            return _Callback(self, tag["cb"])
        if "hc" in tag:
            return self.helpers.resolve(tag["hc"])
        if "b" in tag and tag["b"] in SAFE_BUILTINS:
            return getattr(builtins, tag["b"])
        if "x" in tag and isinstance(tag["x"], list) and tag["x"]:
            module_name, qualname = tag["x"][0]
            obj: Any = importlib.import_module(module_name)
            for part in str(qualname).split("."):
                obj = getattr(obj, part)
            return obj
        raise ProtocolError(f"unknown tag {sorted(tag)[:3]!r}")


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def main() -> None:
    """One test's student process started on its own (the fork server, ``forkserver.py``,
    runs ``serve`` in a freshly forked child instead)."""
    prepare_interpreter()
    serve(json.loads(sys.stdin.buffer.read()))


def prepare_interpreter() -> None:
    if not hasattr(builtins, "exit"):  # python -S (faster start) leaves these to site
        for name in ("exit", "quit"):
            setattr(builtins, name, sys.exit)


def serve(config: dict[str, Any]) -> None:
    """Serve one test's requests on the socket ``config["fd"]``, then leave the process."""
    peer = Peer(socket.socket(fileno=config["fd"]))
    sys.path[:0] = config["path"]
    os.chdir("/work")
    tracer = None
    if isinstance(config.get("coverage"), str):
        tracer = LineTracer(f"/work/{config['module']}.py", config["coverage"],
                            config.get("probe"))

        def out_of_cpu(signum: int, frame: Any) -> None:  # an endless loop keeps its lines
            tracer.dump()
            os._exit(128 + signum)

        signal.signal(signal.SIGXCPU, out_of_cpu)
        tracer.start()
    agent = Agent(peer, config["module"], HelperRegistry(config["helpers"]))
    agent.tracer = tracer
    sys.stdin = RemoteStdin(agent)
    try:
        agent.serve()
    finally:
        if tracer is not None:
            tracer.dump()
    # Leave at once: non-daemon threads or atexit hooks of the student must not keep us alive.
    sys.stdout.flush()
    os._exit(0)


__all__ = ["Agent", "main", "prepare_interpreter", "serve"]
