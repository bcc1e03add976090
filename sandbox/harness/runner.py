"""Tamper-proof runner for a teacher's pytest file against a student module.

Threat model
------------
The student module is hostile. Whatever it does, its score must never exceed what an empty or
wrong solution gets. Known attacks, each with a regression test in
``tests/sandbox/test_harness_attacks.py``: exiting 0 early (``os._exit(0)``, ``sys.exit(0)``
at import or inside a call); patching pytest (``_pytest.runner``, ``TestReport``, assertion
rewriting, ``builtins``); returning objects whose ``__eq__`` is always True (or ``__ne__``
False, ``__bool__``/``__hash__`` tricks, int subclasses); writing fake result files (junit
XML, JSON) in the cwd, ``/tmp`` or the tests folder; killing its parent (``os.getppid()``,
``kill -9 -1``); editing or replacing the test files. The teacher's tests and helper modules
are trusted; they are code the grader runs on purpose. The sandbox backend provides the walls
(namespaces, rlimits, a uid per run); this runner decides what runs on which side of them.

Theory of operation
-------------------
No process that runs test logic ever imports student code, and no process that runs student
code ever sees the tests or decides a result:

* The **trusted** sandbox runs pytest on the teacher's test file (``agent/trusted.py``), with
  the tests read-only at ``/work/tests``. ``import solution`` there gives a proxy module
  (``agent/redirect.py``): attribute reads, calls, iteration and operators become requests to...
* ...a **student** process (``agent/student.py``), a fresh one per test, which imports the
  real module when the test imports it and executes requests. It sees the submission (a fresh
  copy at ``/work``) and, read-only at ``/work/tests``, the helper files of tests/ (everything
  except test modules, ``conftest.py`` and a file named like the student module), so
  ``from graph import Node`` works on both sides. Student processes come from one student
  sandbox per test file and submission folder: a fork server (``agent/forkserver.py``,
  driven by ``students.py``) that forks each test's process from an interpreter that has
  loaded only the agent, under that test's own limits, after killing every process of the
  previous test and restoring ``/work``, ``/tmp`` and ``/dev/shm``: nothing carries over from
  one test to the next. The server runs next to student code, so nothing it says is trusted:
  its reports only say how a lost test failed, and a seccomp filter keeps student processes
  from stopping or signalling it.
* The two talk over a socketpair made here per test; its student end is passed to the fork
  server (SCM_RIGHTS over the server's own socket, itself passed with ``RunSpec.pass_fds``), its
  trusted end to the trusted process over the ``ctl`` socket (SCM_RIGHTS).
  Messages are length-prefixed strict JSON, at most 8 MB (``agent/wire.py``). Values travel as
  object graphs with reference ids, so cycles and shared references survive (``agent/codec.py``),
  and they are rebuilt only as plain values, instances of the tests/ helper classes (by
  ``cls.__new__`` plus attributes, never a method named by the peer), or proxies. Nothing is
  ever unpickled, and comparisons of the test's values happen on the trusted side: an object
  with a lying ``__eq__`` stays in the student process, the test sees a proxy that is equal only
  to itself. Arguments travel back after every call so in-place mutations reach the test's own
  lists, dicts, sets and helper objects; exceptions come back by class name (builtins as
  themselves, student classes as ``StudentException`` subclasses of the same builtin base).
* The trusted sandbox also holds a read-only copy of the student's source at
  ``/work/<module>.py``, sent per test as a memfd next to the socket: text for tests that read
  it. Nothing there imports or runs it: the import is redirected, and an audit hook stops any
  attempt to run it there or to start a program (``agent/redirect.py``).
* The trusted process reports to the runner over ``ctl``, a socket no student process holds;
  every message is checked against a strict schema and a size cap, and anything malformed
  fails the test with SANDBOX_ERROR, never passes it.

Could not be graded. A SANDBOX_ERROR result carries a ``Fault``: PACKAGE when the teacher's
tests failed on their own (collection errors, a crashing helper or conftest, a fixture that
failed before the student's code was used: none of these depend on the submission), HARNESS
when this runner or the trusted process failed. Either makes the submission "could not be
graded" (``sandbox.outcome.ungradable``): no score, no attempt used. A failure that may depend
on the submission stays the student's result.

Per-test isolation. Tests are first listed by a trusted run with no student process at all
(``collect``): the count of tests never depends on the submission (so the list is cached per
package contents and reused for later submissions). A second trusted run is a
zygote: it imports pytest once, then per test asks for a student process (``start``), forks a
child that runs pytest on that one node id, and kills the child if it outlives the test's wall
time. Each test gets ``limits`` for its own student process (CPU and address space set in
the forked child, the wall clock kept by the trusted side and, as a backstop, the fork server),
so one that hangs, crashes or exhausts memory fails alone, with the verdict of how its process
ended (the fork server's report, or the backend's verdict on the student sandbox when the whole
sandbox ended); the others still score. A fork server that dies or stops answering is replaced
by a new one for the remaining tests. If the trusted process itself dies, the test it was
running gets a verdict from that run's result and the remaining tests continue in a new
trusted run. Both zygotes fork from prepared state. The trusted one has started a pytest
session on the test file (configuration, plugins, the package's initial conftest files, the
fixture manager) and, when the test modules only bind the student's names at import, collected
it with stand-ins; each test's child then binds the real module and names and runs its one
test. Collecting says what may be shared (``shared_start``, ``shared_collect``, see
``agent/trusted.py``): a conftest that imports the student's module gets a whole session per
child, a test module that decides something from it at import is collected in each child.
What a test costs is then a forked child running one test, and one forked student process
(``bench/harness.py`` prints the figures against plain pytest).

What teacher tests can and cannot do
------------------------------------
A test module written for plain pytest gives each test the result plain pytest would give it,
for correct and for wrong solutions alike (the corpus of idioms that holds this is
``tests/sandbox/fidelity/``; ``bench/fidelity.py`` prints the figures). In particular:

* Reach student code through ``import solution`` / ``from solution import x``, in test functions
  and fixtures, and also by importing it inside a test (again after ``del sys.modules[...]``),
  ``importlib.reload`` or ``importlib.util.spec_from_file_location`` of its file: the import
  runs in the student process, when the test imports (``agent/redirect.py``). While tests are
  collected there is no student process: a module-level ``solution.CASES`` used for parametrize
  fails collection (refused at upload, ``lint.py``).
* Patch what the student's code reads: ``builtins.input``/``print``, ``sys.stdin``,
  ``sys.argv``, ``os.environ``, ``random`` (its functions and its seed) and ``time.sleep`` and
  friends are mirrored into the student process before each request (``agent/ambient.py``), one
  way only; patched functions are called back here. Output reaches ``capsys``, ``capfd`` and
  ``redirect_stdout`` in the order it was written, ``input()`` prompts included; warnings reach
  ``pytest.warns``.
* Read the student's source as text: ``/work/<module>.py`` in the trusted sandbox is a
  read-only copy (``solution.__file__``, ``open``, ``ast.parse``, ``inspect.getsource`` and
  ``signature``); nothing on this side imports or runs it.
* Run the student's file as a program: ``runpy.run_path``/``run_module`` run it in the student
  process, ``subprocess`` of ``[sys.executable, "solution.py", ...]`` (or ``-m solution``) runs
  it in a fresh interpreter in the student sandbox (``agent/programs.py``).
* Not: start any other program, or run the student's code in the trusted process (``exec`` of
  its text, a module loader). Such tests are refused at upload (``lint.py``) and stopped when
  they run (an audit hook, ``redirect.install_guard``): SANDBOX_ERROR with ``Fault.PACKAGE``,
  never a score.
* Share files with the student's code through its temporary folders (``tmp_path``,
  ``tmpdir``, ``tmp_path_factory``, ``monkeypatch.chdir(tmp_path)``): pytest's base temporary
  folder is one path on both sides, and every message carries what changed in it, both ways
  (``agent/shared.py``). What comes from the student side is data: regular files and folders
  only, by content, names checked and written without following a link, so a link it makes is
  never followed by the test. Files elsewhere are not shared (a package's reference solution,
  graded at upload, shows the teacher such a test failing before students submit).
* Pass plain values, instances of the tests/ helper classes, student objects and functions
  (called back across the channel). Instances of classes defined in a test module or conftest
  cannot be passed. Tuples come back as tuples, namedtuples of the student as plain tuples.
* A student object equals only itself when compared with a test's value; compare its
  attributes or its methods' results. Two student objects compare by the student's ``__eq__``.
  ``x in student_object`` iterates it here. Each call is a round trip (tens of microseconds).
* Arithmetic between a student object and a test's value (``abs(result - expected) < eps``,
  ``sum(student_objects)``) fails the test with ``StudentOperandError``: the student's
  ``__sub__`` would compute the verdict. Between student objects it is the student's own;
  ``abs()``, ``-x`` and ``float()`` of a student object are the student's answers, plain values.
* Everything in tests/ except test modules, ``conftest.py`` and ``<module>.py`` is readable
  by student code: expected answers belong in the test modules.
* Tests skipped by their marks are left out; a test that skips itself while running counts as
  FAILED, so the number of results never depends on the submission.
* Backends must honour ``RunSpec.pass_fds`` (bubblewrap does natively, Docker through a
  unix-socket handoff); pytest must be importable in the sandbox (bubblewrap binds the venv
  read-only; the Docker image has the same pin).

Where the code is
-----------------
This module is the public entry (argument checks, one temporary folder and thread pool per
call); ``job.py`` drives one call's trusted runs and student sandboxes and checks what they
say; ``layout.py`` prepares the host folders; ``students.py`` is the fork server's host side;
``results.py`` turns reports into ``CaseResult``; ``traces.py`` reads the evidence of traced
runs; ``agent/`` is what runs inside the two sandboxes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from sandbox import fstree
from sandbox.harness import lint
from sandbox.harness.job import Job, error_case
from sandbox.harness.layout import Layout
from sandbox.harness.results import CaseResult
from sandbox.harness.traces import Evidence
from sandbox.types import Backend, Fault, Limits


def run_pytest_file(backend: Backend, *, package_tests_dir: Path, test_file: str,
                    submission_dir: Path, module_name: str, limits: Limits,
                    evidence: Evidence | None = None) -> list[CaseResult]:
    """Run every test of ``test_file`` against the student module; one result per test case.

    ``package_tests_dir`` is the package's tests/ folder and ``test_file`` a path relative to the
    package root (``tests/test_add.py``). ``submission_dir`` holds the student's files,
    ``module_name`` is what the tests import (``solution``). Each test case runs under
    ``limits`` in a student process of its own. Collection errors in the tests give one
    SANDBOX_ERROR result (``Fault.PACKAGE``); no tests give ``[]``. Tests skipped by their
    ``skip``/``skipif`` marks are left out; one that skips itself while running counts as FAILED.
    With ``evidence``, each student process is traced (see ``Evidence``): for feedback only,
    never for a score.
    Raises ``SandboxError`` only when the backend itself fails.
    """
    return run_pytest_plan(backend, package_tests_dir=package_tests_dir, test_file=test_file,
                           plan=None, submission_dir=submission_dir, module_name=module_name,
                           limits=limits, evidence=evidence)


def run_pytest_plan(backend: Backend, *, package_tests_dir: Path, test_file: str,
                    plan: list[tuple[str, Path]] | None, module_name: str, limits: Limits,
                    submission_dir: Path | None = None,
                    evidence: Evidence | None = None) -> list[CaseResult]:
    """Run chosen tests of ``test_file``, each against a submission folder of its own, in one
    trusted run: ``plan`` lists (node id, submission folder) pairs, node ids may repeat. This is
    how feedback checks many candidate repairs at the cost of one student process per pair.
    Without ``plan``, every collected test runs against ``submission_dir``. One result per pair,
    in order; a node id the tests do not have gives SANDBOX_ERROR.
    """
    if not module_name.isidentifier():
        raise ValueError(f"module name {module_name!r} is not a Python identifier")
    rel = PurePosixPath(test_file)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] != ("tests",) or rel.suffix != ".py":
        raise ValueError(f"test file {test_file!r} must be a .py path under tests/")
    if not (Path(package_tests_dir) / Path(*rel.parts[1:])).is_file():
        return [error_case(test_file, f"test file {test_file} not found in the package",
                           Fault.PACKAGE)]
    if module_name in lint.RESERVED_MODULES:
        return [error_case(test_file, lint.RESERVED.format(module=module_name), Fault.PACKAGE)]
    if plan is not None and not plan:
        return []
    first = Path(submission_dir) if submission_dir is not None else plan[0][1]  # type: ignore[index]
    with fstree.temporary_folder("harness-") as tmp, \
            ThreadPoolExecutor(max_workers=3, thread_name_prefix="harness") as pool:
        # The trusted run, the student sandbox, and room for the next student sandbox should
        # one be given up while its run still goes on (it ends at its own wall clock).
        layout = Layout.create(Path(tmp), Path(package_tests_dir), first, module_name)
        job = Job(backend, layout, test_file, module_name, limits, pool, evidence)
        try:
            return job.run(plan)
        finally:
            job.close()


__all__ = ["CaseResult", "Evidence", "run_pytest_file", "run_pytest_plan"]
