"""What a teacher's pytest files ask that the harness will not do, found by reading them.

The harness runs plain pytest files with the student's module in a sandbox of its own
(``runner.py``); ``agent/redirect.py`` makes the ordinary idioms work there. A few cannot be
made safe, and a test using one gives no result for any submission ("could not be graded"):

* running text as code in the test's process (``exec``, ``eval``, ``compile`` of anything but
  a string literal; doctest's runners other than ``testmod`` of the student's module, which
  runs in the student's process): if the text is the student's code, the student's code would
  run on the trusted side and could change the result;
* a module loader the grader cannot redirect (``SourceFileLoader``, ``imp.load_source``);
* starting a program other than the student's own file run with Python (a shell command,
  ``os.system``, ``multiprocessing``, ``subprocess`` of another program): a program started
  there could read and run the student's file;
* a class of the test deriving from one of the student's (``class LoudDog(solution.Dog)``):
  the student's classes live in its process;
* using the student's module while the tests are collected (``@pytest.mark.parametrize("x",
  solution.CASES)``): there is no student process then, and the number of tests must not depend
  on the submission.

:func:`check` finds these in the test file, the ``conftest.py`` files and the helper modules of
``tests/``, naming the test (or "module level") and the reason. The upload of a package runs it
(``grader.courses.services``); the runner refuses, at grading time, a test file whose tests run
text as code (a package stored before this check existed). It reads the code as written: a name
built at run time escapes it; the runtime guard (``redirect.install_guard``) still stops a test
that starts a program or runs code compiled from the student's file. Parsing is all it does:
nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.package import AssignmentPackage

RUNS_TEXT = "runs text as code in the test's own process ({call}); if that text is the " \
    "student's code it could change the result: import the module (import {module}) or run " \
    "the file with runpy.run_path or subprocess instead"
DOCTESTS = "runs docstring examples in the test's own process ({call}); they may be the " \
    "student's code: use doctest.testmod({module}), which the grader runs in the student's " \
    "sandbox"
LOADER = "loads a module with {call}, which the grader cannot redirect to the student's " \
    "sandbox: import the module (import {module}) or use importlib.util.spec_from_file_location"
STARTS = "starts a program ({call}); a test may run only the student's own file, as " \
    "[sys.executable, '{module}.py', ...], which the grader runs in the student's sandbox"
COLLECTED = "uses the student's module while the tests are collected ({call}); the list of " \
    "tests must not depend on the submission: use it inside a test function or a fixture"
SUBCLASSES = "defines a subclass of the student's class ({call}); the student's classes run " \
    "in the student's sandbox and a class of the test cannot derive from one: test the " \
    "student's class through its own instances"
SHARED_STATE = "{what} uses the student's module and is set up once for several tests, " \
    "which share what it made (as under plain pytest): here each of those tests first " \
    "replays the tests before it that share it, in order, so it sees what they changed; " \
    "grading takes longer (n such tests run about n*n/2 tests)"
RESERVED = "the student's module may not be called {module}: pytest loads a module of that " \
    "name itself, in the test's own process"
# Module names pytest would load itself from the student's folder: never a student's module.
RESERVED_MODULES = frozenset({"conftest", "pytest", "_pytest", "pluggy", "sitecustomize",
                              "usercustomize"})
# Kinds of finding; "code" is also refused when a stored package is graded (see job.py).
KINDS = ("code", "loader", "program", "collection", "subclass", "module")
_RUNS_TEXT = {"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"}
_DOCTEST_RUNS = {"doctest.run_docstring_examples", "doctest.DocTestRunner",
                 "doctest.DebugRunner", "doctest.DocTestSuite", "doctest.DocFileSuite",
                 "doctest.testfile", "doctest.debug", "doctest.debug_src",
                 "doctest.debug_script"}
_LOADERS = {"importlib.machinery.SourceFileLoader", "importlib.machinery.SourcelessFileLoader",
            "importlib.machinery.ExtensionFileLoader", "imp.load_source", "imp.load_module",
            "imp.load_compiled"}
_PROGRAMS = {"os.system", "os.popen", "os.fork", "os.forkpty", "os.posix_spawn",
             "os.posix_spawnp", "pty.spawn", "pty.fork", "subprocess.getoutput",
             "subprocess.getstatusoutput", "multiprocessing.Process", "multiprocessing.Pool",
             "concurrent.futures.ProcessPoolExecutor"}
_PROGRAM_PREFIXES = ("os.exec", "os.spawn")
_SUBPROCESS = {"subprocess.run", "subprocess.call", "subprocess.check_call",
               "subprocess.check_output", "subprocess.Popen"}


@dataclass(frozen=True)
class Finding:
    file: str  # relative to the package root: tests/test_x.py
    line: int
    test: str  # "test_add", "TestStack.test_pop", or "" at module level
    kind: str  # one of KINDS
    reason: str

    def __str__(self) -> str:
        where = self.test or "module level"
        return f"{self.file}:{self.line} ({where}): {self.reason}"


def check(tests_dir: Path, module_name: str, kinds: tuple[str, ...] = KINDS) -> list[Finding]:
    """Findings in every Python file of ``tests_dir`` (a package's tests/ folder)."""
    found: list[Finding] = []
    for rel, tree in _parsed(tests_dir):
        found += [f for f in _Checker(rel, module_name).run(tree) if f.kind in kinds]
    return found


def _parsed(tests_dir: Path) -> Iterator[tuple[str, ast.Module]]:
    """Each Python file of ``tests_dir`` that parses, named ``tests/...``: one that does not is
    pytest's to report when the tests are collected."""
    for path in sorted(Path(tests_dir).rglob("*.py")):
        if "__pycache__" in path.parts or path.is_symlink():
            continue
        rel = "tests/" + path.relative_to(tests_dir).as_posix()
        try:
            yield rel, ast.parse(path.read_bytes(), filename=rel)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue


def cautions(tests_dir: Path, module_name: str) -> list[Finding]:
    """What runs here otherwise than a test of its own, shown to the teacher with the package
    (never refused). Now one kind, ``shared_state``: a fixture of a wider scope than the test
    (or ``setUpClass``, ``setup_class``, ``setup_module``) that calls the student's code (it
    holds what it made). Each test runs in processes of its own here; in a file with such
    set-up (in it or in a ``conftest.py`` above it) each test first replays the tests
    collected before it, in order, so it sees what they changed, as under plain pytest
    (``sandbox/harness/job.py``, ``Job._replays``)."""
    found: list[Finding] = []
    for rel, tree in _parsed(tests_dir):
        checker = _Checker(rel, module_name)
        list(checker.run(tree))  # learns the names bound to the student's module
        found += checker.shared_state(tree)
    return found


def package_cautions(package: AssignmentPackage) -> list[Finding]:
    """:func:`cautions` for a package whose tests run under the harness (none otherwise)."""
    from sandbox.testtypes import TEST_TYPES

    if not any(TEST_TYPES[t.type].uses_harness for t in package.tests) \
            or not package.tests_dir.is_dir():
        return []
    return cautions(package.tests_dir, package.module_name)


def check_package(package: AssignmentPackage) -> list[Finding]:
    """Findings in the tests/ folder of a package with tests that run under the harness (none
    for other packages)."""
    from sandbox.testtypes import TEST_TYPES  # not at the top: the pytest type imports the harness

    if not any(TEST_TYPES[t.type].uses_harness for t in package.tests) \
            or not package.tests_dir.is_dir():
        return []
    if package.module_name in RESERVED_MODULES:
        return [Finding(package.submission, 0, "", "module",
                        RESERVED.format(module=package.module_name))]
    return check(package.tests_dir, package.module_name)


def describe(findings: list[Finding]) -> str:
    """The message a teacher reads at upload: each test, where, and why."""
    lines = [f"- {f}" for f in findings[:20]]
    if len(findings) > 20:
        lines.append(f"- ... and {len(findings) - 20} more")
    return ("Some pytest tests use what the grader cannot run safely, so they would give no "
            "result for any student:\n" + "\n".join(lines))


class _Checker:
    def __init__(self, file: str, module_name: str) -> None:
        self.file = file
        self.module = module_name
        self.aliases: dict[str, str] = {}  # local name → dotted name it was imported as
        self.student: set[str] = set()  # local names bound to the student module or its names

    def run(self, tree: ast.Module) -> Iterator[Finding]:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
                    if alias.name == self.module:
                        self.student.add(local)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    if node.module == self.module:
                        self.student.add(alias.asname or alias.name)
        yield from self._calls(tree)
        yield from self._subclasses(tree)
        yield from self._collected(tree.body, "")

    def _finding(self, node: ast.AST, test: str, kind: str, text: str, call: str) -> Finding:
        return Finding(self.file, getattr(node, "lineno", 0), test, kind,
                       text.format(call=call, module=self.module))

    def dotted(self, node: ast.expr) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def _calls(self, tree: ast.Module) -> Iterator[Finding]:
        for test, node in _calls_with_scope(tree):
            name = self.dotted(node.func)
            if name in _RUNS_TEXT and not _literal_code(node):
                yield self._finding(node, test, "code", RUNS_TEXT, f"{name}()")
            elif name in _DOCTEST_RUNS:
                yield self._finding(node, test, "code", DOCTESTS, f"{name}()")
            elif name in _LOADERS:
                yield self._finding(node, test, "loader", LOADER, name)
            elif name in _PROGRAMS or name.startswith(_PROGRAM_PREFIXES):
                yield self._finding(node, test, "program", STARTS, f"{name}()")
            elif name in _SUBPROCESS and not _python_command(node):
                yield self._finding(node, test, "program", STARTS, f"{name}()")

    def _subclasses(self, tree: ast.Module) -> Iterator[Finding]:
        """``class LoudDog(solution.Dog)``, at module level or inside a test."""
        for scope, node in _with_scope(tree, ast.ClassDef):
            assert isinstance(node, ast.ClassDef)
            for base in [*node.bases, *[k.value for k in node.keywords]]:
                if _reference(base, self.student):
                    yield self._finding(node, scope, "subclass", SUBCLASSES,
                                        f"class {node.name}({ast.unparse(base)[:60]})")
                    break

    def shared_state(self, tree: ast.Module) -> list[Finding]:
        """Wider-scoped set-up that uses the student's module (see :func:`cautions`)."""
        found = []
        for scope, node in _with_scope(tree, ast.FunctionDef):
            assert isinstance(node, ast.FunctionDef)
            where = f"{scope}.{node.name}" if scope else node.name
            wide = _fixture_scope(node) or (
                node.name if node.name in _CLASS_SETUPS else None)
            # It makes a student object (a call of the student's code): reading a constant of
            # the module holds nothing a test could change.
            if wide is None or not any(isinstance(n, ast.Call) and _reference(n.func, self.student)
                                       for n in ast.walk(node)):
                continue
            what = (f"scope={wide!r} fixture {node.name}" if wide not in _CLASS_SETUPS
                    else node.name)
            found.append(Finding(self.file, node.lineno, where, "shared_state",
                                 SHARED_STATE.format(what=what, module=self.module)))
        return found

    def _collected(self, body: list[ast.stmt], scope: str) -> Iterator[Finding]:
        """Uses of the student's module in code that runs while the test module is imported."""
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{scope}.{stmt.name}" if scope else stmt.name
                for expr in [*stmt.decorator_list, *stmt.args.defaults,
                             *[d for d in stmt.args.kw_defaults if d is not None]]:
                    yield from self._student_uses(expr, name)
            elif isinstance(stmt, ast.ClassDef):
                for expr in stmt.decorator_list:
                    yield from self._student_uses(expr, stmt.name)
                yield from self._collected(stmt.body, stmt.name)
            elif isinstance(stmt, ast.Import | ast.ImportFrom) or _main_guard(stmt):
                continue
            elif isinstance(stmt, ast.Assign) and _reference(stmt.value, self.student):
                continue  # ``add = solution.add``: a reference, resolved when used
            else:
                yield from self._student_uses(stmt, scope)

    def _student_uses(self, node: ast.AST, test: str) -> Iterator[Finding]:
        for child in ast.walk(node):
            if isinstance(child, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(child, ast.Name) and child.id in self.student:
                yield self._finding(child, test, "collection", COLLECTED, ast.unparse(node)[:80]
                                    if isinstance(node, ast.expr) else child.id)
                return


def _calls_with_scope(tree: ast.Module) -> Iterator[tuple[str, ast.Call]]:
    """Every call with the test (function, ``Class.method``) it is in, "" at module level."""
    for scope, node in _with_scope(tree, ast.Call):
        assert isinstance(node, ast.Call)
        yield scope, node


def _with_scope(tree: ast.Module, kind: type[ast.AST]) -> Iterator[tuple[str, ast.AST]]:
    """Every ``kind`` node with the test (function, ``Class.method``) it is in, "" at module
    level (a class's own scope is where it is defined)."""
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, scope = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = f"{scope}.{child.name}" if scope else child.name
            if isinstance(child, kind):
                yield scope, child
            stack.append((child, inner))


def _literal_code(call: ast.Call) -> bool:
    """``eval("2 + 3")``: text the test wrote itself; ``compile(..., ast.PyCF_ONLY_AST)``."""
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return True
    flags = [*call.args[3:4], *[k.value for k in call.keywords if k.arg == "flags"]]
    return any(isinstance(n, ast.Attribute | ast.Name) and "PyCF_ONLY_AST" in ast.unparse(n)
               for f in flags for n in ast.walk(f))


def _python_command(call: ast.Call) -> bool:
    """Whether a subprocess call may be the student's file run with Python (decided when it
    runs: ``redirect.Redirects.program``); a literal command of another program, or a shell,
    is not."""
    if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value)
           for k in call.keywords):
        return False
    args = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "args"), None)
    first: ast.expr | None = args
    if isinstance(args, ast.List | ast.Tuple):
        first = args.elts[0] if args.elts else None
        if any(isinstance(e, ast.Constant) and e.value == "-c" for e in args.elts):
            return False  # python -c "...": test code, never run in the student's sandbox
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        program = first.value.split("/")[-1]
        return program.startswith("python") and " " not in program
    return True  # sys.executable, a variable: the runtime decides


_CLASS_SETUPS = ("setUpClass", "setup_class", "setup_module", "setUpModule")
_WIDE_SCOPES = ("class", "module", "package", "session")


def _fixture_scope(node: ast.FunctionDef) -> str | None:
    """The scope of ``@pytest.fixture(scope="module")`` (a literal wider than a test's)."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("fixture"):
            for keyword in decorator.keywords:
                value = keyword.value
                if keyword.arg == "scope" and isinstance(value, ast.Constant) \
                        and value.value in _WIDE_SCOPES:
                    return str(value.value)
    return None


def _main_guard(stmt: ast.stmt) -> bool:
    """``if __name__ == "__main__":``: never runs under pytest."""
    return isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test) \
        and "__name__" in ast.unparse(stmt.test)


def _reference(node: ast.expr, student: set[str]) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in student


__all__ = ["KINDS", "RESERVED_MODULES", "Finding", "cautions", "check", "check_package",
           "describe", "package_cautions"]
