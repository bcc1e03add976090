"""Trusted side: what plain-pytest idioms about the student's module do here, safely.

Under plain pytest the test and the student's code share a process, so a test may import the
module (``import solution``, ``importlib.reload``, ``importlib.util.spec_from_file_location``),
read its file (``solution.__file__``, ``inspect.getsource``), look inside its objects
(``inspect.signature``, ``dataclasses.asdict``), run its docstring examples
(``doctest.testmod``) or run it as a program (``runpy``,
``subprocess.run([sys.executable, "solution.py"])``). Here each of those is redirected:

* **Importing** goes through :class:`StudentFinder`, first on ``sys.meta_path``: the module the
  test gets is the proxy (``proxy.StudentModule``), and the import, a re-import after
  ``del sys.modules[...]``, a reload or a load by file path happen in the student process.
* **The file** ``/work/<module>.py`` is a read-only copy of the student's source, written by the
  trusted process before each test (the runner sends it). It is text for the test to read:
  ``open``, ``ast.parse``, ``inspect.getsource(solution)`` and, for a proxy, ``inspect.getsource``
  and ``getsourcelines`` (the student process says which lines, this side reads them).
* **Running it** as a program (``runpy.run_path``/``run_module``, ``subprocess.Popen`` and
  everything built on it, with ``sys.executable`` or ``python``) becomes a request: runpy runs in
  the test's student process, a subprocess in a fresh interpreter inside the student sandbox.
  What comes back is the student program's output, untrusted data the test compares.
  ``doctest.testmod(solution)`` runs the examples in the student process too; the test gets
  its counts.

And one guard (:func:`install_guard`), a ``sys.addaudithook`` hook no Python code can remove:
no code compiled from the student's file may run in this process, and this process may start no
program at all (a program could read and run the file). A test that tries is stopped and gives
no result (``errors.Refused``): the package is at fault, whatever the submission. Text run as
code (``exec``) is found by reading the tests instead: ``sandbox.harness.lint`` names all of
these to the teacher at upload, before any student submits, and the runner refuses a stored
package whose tests ``exec`` text.
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import linecache
import os
import re
import runpy
import subprocess
import sys
import types
from collections.abc import Callable
from typing import Any

from . import hints
from .programs import popen_class
from .proxy import LazyModule, RemoteMethod, RemoteObject, StudentModule, student_name
from .scripts import SAFE_FLAGS
from .session import Session

WORK = "/work"
SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                          "os.spawn", "os.fork", "os.forkpty"})
DOCTEST_REFUSED = ("the test runs docstring examples in its own process (doctest's runner); "
                   "they may be the student's code: use doctest.testmod(<the student's "
                   "module>), which runs them in the student's sandbox")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")


class StudentLoader(importlib.abc.Loader):
    """Makes the student module's stand-in and imports the real one where it runs."""

    def __init__(self, make: Callable[[str], types.ModuleType],
                 run: Callable[[types.ModuleType], None], path: str) -> None:
        self.make, self.run, self.path = make, run, path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.make(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        self.run(module)

    def get_source(self, fullname: str) -> str:  # text for linecache and inspect; never run
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def is_package(self, fullname: str) -> bool:
        return False


class StudentFinder(importlib.abc.MetaPathFinder):
    """Claims the student module's name before any finder that could find its file."""

    def __init__(self, name: str, loader: StudentLoader) -> None:
        self.name, self.loader = name, loader

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        return self.spec(fullname) if fullname == self.name else None

    def spec(self, name: str) -> importlib.machinery.ModuleSpec:
        spec = importlib.machinery.ModuleSpec(name, self.loader, origin=self.loader.path)
        spec.has_location = True  # sets __file__ to the (read-only) copy of the source
        return spec


def student_path(module_name: str) -> str:
    return f"{WORK}/{module_name}.py"


def to_front() -> None:
    """Put the student finder before pytest's assertion-rewriting hook, which pytest inserts
    first on ``sys.meta_path`` when it starts: the student's name is never looked up elsewhere
    (a file named like a test module would otherwise be loaded by that hook, here)."""
    ours = [f for f in sys.meta_path if isinstance(f, StudentFinder)]
    sys.meta_path[:] = ours + [f for f in sys.meta_path if not isinstance(f, StudentFinder)]


def install_collecting(module_name: str, on_import: Callable[[], None] | None = None) -> None:
    """While tests are listed (and in the trusted process that starts the session its tests'
    processes share): ``import solution`` gives a :class:`~.proxy.LazyModule`. ``on_import``
    is told of each import."""

    def imported(module: types.ModuleType) -> None:
        if on_import is not None:
            on_import()

    loader = StudentLoader(LazyModule, imported, student_path(module_name))
    sys.meta_path.insert(0, StudentFinder(module_name, loader))


def install(session: Session, module_name: str) -> None:
    """Everything above, for one test's trusted process talking to its student process."""
    Redirects(session, module_name).install()


class Redirects:
    def __init__(self, session: Session, module_name: str) -> None:
        self.session = session
        self.name = module_name
        self.path = student_path(module_name)
        self.loader = StudentLoader(self._make, self._import, self.path)
        self.finder = StudentFinder(module_name, self.loader)

    def install(self) -> None:
        sys.meta_path.insert(0, self.finder)
        wrap = _replace
        wrap(importlib.util, "spec_from_file_location", self.spec_from_file_location)
        wrap(runpy, "run_path", self.run_path)
        wrap(runpy, "run_module", self.run_module)
        subprocess.Popen = popen_class(self)  # type: ignore[misc, assignment]
        wrap(inspect, "findsource", self.findsource)
        wrap(inspect, "getfile", self.getfile)
        wrap(inspect, "signature", self.signature)
        for name in ("isfunction", "ismethod", "isclass", "isgeneratorfunction",
                     "iscoroutinefunction", "isasyncgenfunction", "isroutine"):
            wrap(inspect, name, functools.partial(self.predicate, name))
        for name in ("fields", "asdict", "astuple", "is_dataclass"):
            wrap(dataclasses, name, functools.partial(self.dataclass_call, name))
        wrap(dataclasses, "replace", self.dataclass_replace)
        wrap(doctest, "testmod", self.testmod)
        doctest.DocTestRunner.run = self.doctest_run  # type: ignore[method-assign, assignment]
        hints.install(functools.partial(student_name, self.session))
        install_guard(self.session, self.path)

    # -- importing -------------------------------------------------------------------------

    def _make(self, name: str) -> types.ModuleType:
        return StudentModule(name, self.session)

    def _import(self, module: types.ModuleType) -> None:
        bound = module.__dict__.get("_grader_imported", False)
        self.session.import_module("reload" if bound else "fresh" if self.session.imported
                                   else "first")
        module.__dict__["_grader_imported"] = True
        module.__dict__["__doc__"] = self.session.module_doc

    def spec_from_file_location(self, original: Callable[..., Any], name: str,
                                location: object = None, *args: Any,
                                **kwargs: Any) -> importlib.machinery.ModuleSpec | None:
        if location is not None and self.is_student_file(location):
            return self.finder.spec(name)
        return original(name, location, *args, **kwargs)  # type: ignore[no-any-return]

    def is_student_file(self, path: object, cwd: object = None) -> bool:
        try:
            text = os.fsdecode(path)  # type: ignore[arg-type]
            base = os.fsdecode(cwd) if cwd is not None else os.getcwd()  # type: ignore[arg-type]
        except (TypeError, ValueError, OSError):
            return False
        return os.path.normpath(os.path.join(base, text)) == self.path

    # -- running it as a program -----------------------------------------------------------

    def run_path(self, original: Callable[..., Any], path_name: object,
                 init_globals: dict[str, Any] | None = None, run_name: str | None = None) -> Any:
        if self.is_student_file(path_name):
            return self.session.run_code("path", self.path, run_name, init_globals, False)
        return original(path_name, init_globals, run_name)

    def run_module(self, original: Callable[..., Any], mod_name: str,
                   init_globals: dict[str, Any] | None = None, run_name: str | None = None,
                   alter_sys: bool = False) -> Any:
        if mod_name == self.name:
            return self.session.run_code("module", mod_name, run_name, init_globals,
                                         bool(alter_sys))
        return original(mod_name, init_globals, run_name, alter_sys)

    def testmod(self, original: Callable[..., Any], m: object = None, *args: Any,
                **options: Any) -> Any:
        """``doctest.testmod(solution)``: the student's examples run in its process."""
        if isinstance(m, StudentModule) and not args:
            failed, attempted = self.session.run_doctests(options)
            return doctest.TestResults(failed, attempted)
        return original(m, *args, **options)

    def doctest_run(self, *args: Any, **kwargs: Any) -> Any:
        """Docstring examples run here would be text of the student's run as code in the test's
        own process (``run_docstring_examples(solution.f)``, a ``DocTestRunner``): refused."""
        self.session.refuse(DOCTEST_REFUSED)

    def program(self, args: object, options: dict[str, Any]) -> tuple[list[str], list[str],
                                                                     list[str]] | None:
        """``(flags, target, arguments)`` when ``args`` runs the student's file with Python."""
        if options.get("shell"):
            return None
        if isinstance(args, str | bytes | os.PathLike):
            args = [args]
        try:
            argv = [os.fsdecode(a) for a in args]  # type: ignore[attr-defined]
        except TypeError:
            return None
        executable = options.get("executable")
        program = os.fsdecode(executable) if executable is not None else (argv or [""])[0]
        if not (_PYTHON.match(os.path.basename(program))
                or os.path.realpath(program) == os.path.realpath(sys.executable)):
            return None
        rest = argv[1:]
        flags: list[str] = []
        while rest and rest[0] in SAFE_FLAGS:
            flags.append(rest.pop(0))
        if rest[:2] == ["-m", self.name]:
            return flags, rest[:2], rest[2:]
        if rest and not rest[0].startswith("-") and self.is_student_file(rest[0],
                                                                       options.get("cwd")):
            return flags, [self.path], rest[1:]
        return None

    # -- looking inside student objects ----------------------------------------------------

    def findsource(self, original: Callable[..., Any], obj: object) -> tuple[list[str], int]:
        if not isinstance(obj, RemoteObject | RemoteMethod):
            return original(obj)  # type: ignore[no-any-return]
        info = self.session.dunder("source", obj)
        if not (isinstance(info, list) and len(info) == 3 and info[2] == self.path):
            raise OSError("could not get source code")
        lines = linecache.getlines(self.path)
        kind, where = info[0], info[1]
        if kind == "code" and type(where) is int and 0 < where <= len(lines):
            return lines, where - 1
        if kind == "class" and isinstance(where, str):
            line = _class_line("".join(lines), where)
            if line is not None:
                return lines, line
        raise OSError("could not find the definition in the source")

    def getfile(self, original: Callable[..., Any], obj: object) -> str:
        if isinstance(obj, RemoteObject | RemoteMethod):
            return self.path
        return original(obj)  # type: ignore[no-any-return]

    def signature(self, original: Callable[..., Any], obj: object, *args: Any,
                  **kwargs: Any) -> inspect.Signature:
        if not isinstance(obj, RemoteObject | RemoteMethod):
            return original(obj, *args, **kwargs)  # type: ignore[no-any-return]
        info = self.session.dunder("signature", obj)
        try:
            raw, has_return, returns = info
            empty = inspect.Parameter.empty
            params = [
                inspect.Parameter(name, inspect._ParameterKind(kind),
                                  default=default if has_default else empty,
                                  annotation=annotation if has_annotation else empty)
                for name, kind, has_default, default, has_annotation, annotation in raw
            ]
            return inspect.Signature(params, return_annotation=returns if has_return
                                     else inspect.Signature.empty)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"no signature found for {obj!r}: {exc}") from None

    def predicate(self, name: str, original: Callable[[object], bool], obj: object) -> bool:
        # While the test module is collected pytest asks these of every module-level name; its
        # answer stays local then, so which tests exist never depends on the submission.
        if isinstance(obj, RemoteObject | RemoteMethod) and not self.session.collecting:
            return self.session.dunder("predicate", name, obj) is True
        return original(obj)

    def dataclass_call(self, name: str, original: Callable[..., Any], obj: object,
                       *args: Any, **kwargs: Any) -> Any:
        if isinstance(obj, RemoteObject) and not args and not kwargs:
            return self.session.dunder("dataclass", name, obj)
        return original(obj, *args, **kwargs)

    def dataclass_replace(self, original: Callable[..., Any], obj: object, /,
                          **changes: Any) -> Any:
        if isinstance(obj, RemoteObject):
            return self.session.dunder("dataclass", "replace", obj, changes)
        return original(obj, **changes)


def _replace(owner: object, name: str, wrapper: Callable[..., Any]) -> None:
    """``owner.name = wrapper`` bound to the original, keeping the original's name and docs."""
    original = getattr(owner, name)
    replacement = functools.wraps(original)(functools.partial(wrapper, original))
    setattr(owner, name, replacement)


def _class_line(source: str, qualname: str) -> int | None:
    """The line index of class ``qualname`` in ``source`` (as ``inspect.findsource`` finds it)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    parts = qualname.split(".")
    scope: list[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for index, part in enumerate(parts):
        found = None
        for node in scope:
            is_last = index == len(parts) - 1
            kinds = (ast.ClassDef,) if is_last else (ast.ClassDef, ast.FunctionDef,
                                                     ast.AsyncFunctionDef)
            if isinstance(node, kinds) and node.name == part:
                found = node
        if found is None:
            return None
        scope = getattr(found, "body", [])
    if found is None:
        return None
    decorators = getattr(found, "decorator_list", [])
    return min([found.lineno, *(d.lineno for d in decorators)]) - 1


# -- the guard -------------------------------------------------------------------------------


MAX_COMPARED_SOURCE = 256 * 1024  # bytes of student source compiled here to recognise copies


def install_guard(session: Session, path: str) -> None:
    """Refuse, for the rest of this process, to start programs or to run the student's code.

    The student's code is recognised when it is about to run: code compiled from its file
    (``SourceFileLoader``, ``compile(text, solution.__file__, "exec")``), or equal to it and
    compiled from a file that is not one of the tests' or the libraries' (a copy written to
    ``tmp_path`` and imported or run with runpy). Equality is that of code objects (everything
    but the file name); the student's text is compiled for it, never run, and only once such a
    file is about to run. No submission can make this refuse: it would need this process to run
    one of its files, and files of the tests and libraries are not compared. Text run as code
    under a made-up name (``exec(open(path).read())``: ``<string>``) is not compared here, where
    a submission could imitate text that pytest or a helper runs: the tests are read for it
    instead, at upload and when graded (``sandbox.harness.lint``).
    """
    ours = (WORK + "/tests/", os.path.dirname(os.path.abspath(__file__)) + "/",
            os.path.join(sys.prefix, ""), os.path.join(sys.base_prefix, ""))
    compiled: list[types.CodeType | None] = []

    def student_code() -> types.CodeType | None:
        if not compiled:
            code = None
            try:
                with open(path, "rb") as fh:
                    raw = fh.read(MAX_COMPARED_SOURCE + 1)
                if len(raw) <= MAX_COMPARED_SOURCE:
                    code = compile(raw, path, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                pass  # nothing that does not compile can run
            compiled.append(code)
        return compiled[0]

    def is_students(code: types.CodeType) -> bool:
        name = code.co_filename
        if name.startswith("<") or code.co_name != "<module>":
            return False
        name = os.path.normpath(os.path.join(os.getcwd(), name))
        if name == path:
            return True
        return not name.startswith(ours) and code == student_code()

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in SPAWN_EVENTS:
            session.refuse("the test starts a program; a test may run only the student's own "
                           "file, as [sys.executable, '<file>', ...], which the grader runs in "
                           "the student's sandbox")
        elif event == "exec" and args and isinstance(args[0], types.CodeType):
            if is_students(args[0]):
                session.refuse("the test runs the student's code in the test's own process "
                               "(a module loader, or a copy of the file); import the module or "
                               "run the file with runpy or subprocess instead")

    sys.addaudithook(hook)


__all__ = ["Redirects", "StudentFinder", "StudentLoader", "install", "install_collecting",
           "install_guard", "student_path", "to_front"]
