"""Trusted side: list the tests, and find how much of a session their processes may share.

``collect`` runs pytest's collection with a :class:`~.proxy.LazyModule` standing in for the
student's module (no student process exists; the student's file is an empty placeholder) and
reports the node ids, with what ``trusted.py`` may share between the tests' processes:
``shared_start`` when nothing before collection used the student's module, ``shared_collect``
when, besides, the test modules only bound it and its names (``only_bound``). ``bind`` is what a
test's child of a session collected with stand-ins does to get the real module and names.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import tempfile
import types
from typing import Any

import pytest

from . import redirect
from .plugin import CollectPlugin
from .proxy import LazyModule, Unresolved
from .wire import Peer

TESTS_DIR = "/work/tests/"  # the teacher's tests, helpers and conftests (read-only)


def collect(config: dict[str, Any], ctl: Peer, args: list[str]) -> None:
    """List the tests with stand-ins for the student's module; say what may be shared."""
    plugin = CollectPlugin()
    path = redirect.student_path(config["module"])
    early: list[str] = []  # uses of the student's module before the tests are collected
    opened: list[bool] = []  # the student's file was opened
    imports: list[bool] = []  # the student's module was imported (or reloaded)
    looked_up: list[Unresolved] = []  # names of it the tests' own code looked up

    def used(what: str) -> None:
        if not plugin.collecting and what not in early:
            early.append(what)

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], str | bytes):
            with contextlib.suppress(Exception):
                if os.path.normpath(os.path.join(os.getcwd(), os.fsdecode(args[0]))) == path:
                    opened.append(True)
                    used("open")

    def imported() -> None:
        imports.append(True)
        used("import")

    def lookup(made: Unresolved, filename: str) -> None:
        if filename.startswith(TESTS_DIR):
            looked_up.append(made)

    redirect.install_collecting(config["module"], on_import=imported)
    LazyModule.on_lookup = lookup
    sys.addaudithook(audit)
    captured = tempfile.TemporaryFile()
    os.dup2(captured.fileno(), 1)
    os.dup2(captured.fileno(), 2)
    code = int(pytest.main(["--collect-only", *args], plugins=[plugin]))
    LazyModule.on_lookup = None
    if plugin.errors or code not in (0, 5):  # 5: no tests collected
        captured.seek(0)
        text = "\n".join(plugin.errors) or captured.read()[-8000:].decode(errors="replace")
        ctl.send({"op": "collect_error", "output": text or f"pytest exited with code {code}"})
        return
    shared_start = not early
    shared_collect = (shared_start and not opened and len(imports) <= 1
                      and only_bound(looked_up, config["module"]))
    ctl.send({"op": "collected", "nodeids": plugin.nodeids, "shared_start": shared_start,
              "shared_collect": shared_collect})


def tests_namespaces() -> list[dict[str, Any]]:
    """The globals of every module of the tests folder: test modules, conftests, helpers."""
    return [module.__dict__ for module in list(sys.modules.values())
            if isinstance(file := getattr(module, "__file__", None), str)
            and file.startswith(TESTS_DIR)]


def only_bound(looked_up: list[Unresolved], name: str) -> bool:
    """Whether the tests' modules only *bound* the student's module and its names while they
    were imported (``import solution``, ``from solution import add``): each name the tests
    looked up is held by their modules' globals and by nothing else (not a list, a default
    argument, a parametrize value, a mark's condition, nor dropped after a ``hasattr``).

    Then collecting once, with stand-ins, is collecting with the student's module: a child
    binds those globals to the real module and its names (``bind``) and sees what a fresh
    import would have given it."""
    namespaces = tests_namespaces()
    homes = {id(namespace) for namespace in namespaces}
    held = {id(value) for namespace in namespaces for value in namespace.values()}
    if not all(id(made) in held for made in looked_up):
        return False  # looked up and dropped: the answer decided something at import
    gc.collect()
    lazy = sys.modules.get(name)
    watched = [*looked_up, *([lazy] if lazy is not None else [])]
    # One walk of the heap for all of them; what holds them besides their modules' globals
    # (the lists here, sys.modules, the frames of this call) is not the tests'.
    ours = {id(looked_up), id(watched), id(sys.modules)}
    return all(id(r) in homes for r in gc.get_referrers(*watched)
               if id(r) not in ours and not isinstance(r, types.FrameType))


def bind(name: str, namespaces: list[dict[str, Any]]) -> None:
    """In a test's child of a session that collected with stand-ins: import the student's
    module (in the student process, as the tests' import did) and put it and its names where
    the stand-ins are in the tests' globals, ``namespaces`` (``tests_namespaces()`` as the
    collection left them: only those can hold stand-ins, and a child that walked all of
    ``sys.modules`` would copy each module object's page on write, ~2 ms a test). Raises what
    that import would have raised."""
    lazy = sys.modules.pop(name, None)
    if lazy is None:
        return  # the tests never imported it: a test that does gets the real one
    module = importlib.import_module(name)
    for namespace in namespaces:
        for key, value in list(namespace.items()):
            if value is lazy:
                namespace[key] = module
            elif isinstance(value, Unresolved):
                first, *rest = value._grader_path[len(name) + 1:].split(".")
                try:
                    found = getattr(module, first)
                except AttributeError:  # what ``from solution import add`` says
                    raise ImportError(f"cannot import name {first!r} from {name!r} "
                                      f"({module.__file__})") from None
                for part in rest:
                    found = getattr(found, part)
                namespace[key] = found


__all__ = ["TESTS_DIR", "bind", "collect", "only_bound", "tests_namespaces"]
