"""The tests' processes fork from one pytest session, started (and collected) once, when that is
the same as starting it with the student's module.

Starting a session (configuration, plugins, the initial conftest.py files, the fixture manager)
and collecting the test file is most of what a pytest run costs; the trusted side does it once
and forks each test's process from there (``agent/trusted.py``). Collecting the tests first
says how much of it may be shared. ``shared_start``: nothing before collection imports the
module or reads its file (a conftest.py that does gets a whole session per test).
``shared_collect``: the test modules only bind the module and its names at import (``import
solution``, ``from solution import add``), so each child can bind them to the real ones; a
module that also decides something from them there (a ``hasattr``, a table of the student's
functions) is collected again in each child. Either way each test starts from state no other
test touched and gets the result a fresh import gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.harness import job, run_pytest_file
from sandbox.types import Limits, Verdict

pytestmark = pytest.mark.sandbox

TESTS = '''
from solution import add

def test_small():
    assert add(1, 2) == 3

def test_negative():
    assert add(-1, -2) == -3
'''


def _package(tmp_path: Path, conftest: str | None, tests: str = TESTS) -> Path:
    folder = tmp_path / "pkg" / "tests"
    folder.mkdir(parents=True)
    (folder / "test_it.py").write_text(f"# {tmp_path}\n{tests}")  # a test list of its own
    if conftest is not None:
        (folder / "conftest.py").write_text(conftest)
    return folder


def _run(backend, tmp_path: Path, folder: Path, source: str, limits: Limits | None = None
         ) -> tuple[dict[str, Verdict], dict[str, str], dict[str, bool]]:
    sub = tmp_path / f"sub-{abs(hash(source))}"
    sub.mkdir(exist_ok=True)
    (sub / "solution.py").write_text(source)
    results = run_pytest_file(backend, package_tests_dir=folder, test_file="tests/test_it.py",
                              submission_dir=sub, module_name="solution",
                              limits=limits or Limits(wall_seconds=5))
    ids, sharing = next(reversed(job._COLLECTED.values()))  # this package's, used last
    assert set(ids) == {r.nodeid for r in results}
    return {r.name: r.verdict for r in results}, {r.name: r.output for r in results}, sharing


@pytest.mark.parametrize("conftest", [
    None,
    "import pytest\n\n@pytest.fixture(autouse=True)\ndef quiet(capsys):\n    yield\n",
])
def test_a_package_that_never_uses_the_student_to_start_shares_the_session(
    backend, tmp_path, conftest
):
    folder = _package(tmp_path, conftest)
    right, _, sharing = _run(backend, tmp_path, folder, "def add(a, b):\n    return a + b\n")
    assert sharing["shared_start"] is True
    assert right == {"test_small": Verdict.PASSED, "test_negative": Verdict.PASSED}
    wrong, outputs, _ = _run(backend, tmp_path, folder, "def add(a, b):\n    return abs(a + b)\n")
    assert wrong == {"test_small": Verdict.PASSED, "test_negative": Verdict.FAILED}
    assert "assert 3 == -3" in outputs["test_negative"]


@pytest.mark.parametrize("conftest", [
    "import solution\nimport pytest\n\n@pytest.fixture\ndef adder():\n    return solution.add\n",
    "from pathlib import Path\nSOURCE = (Path(__file__).parents[1] / 'solution.py').read_text()\n",
])
def test_a_conftest_that_imports_or_reads_the_student_gets_a_session_per_test(
    backend, tmp_path, conftest
):
    tests = TESTS + """
def test_fixture_or_source(request):
    import conftest
    if hasattr(conftest, "SOURCE"):
        assert conftest.SOURCE.startswith("def add")  # the submission's, not a placeholder
    else:
        assert request.getfixturevalue("adder")(2, 2) == 4
"""
    folder = _package(tmp_path, conftest, tests)
    verdicts, outputs, sharing = _run(backend, tmp_path, folder,
                                     "def add(a, b):\n    return a + b\n")
    assert sharing["shared_start"] is False
    assert set(verdicts.values()) == {Verdict.PASSED}, outputs


def test_nothing_a_test_leaves_behind_reaches_the_next_one_in_a_shared_session(
    backend, tmp_path
):
    conftest = ("import pytest\nSEEN = []\n\n@pytest.fixture(autouse=True)\n"
                "def count(request):\n    SEEN.append(request.node.name)\n    yield\n")
    tests = '''
import time
import conftest
from solution import add

def test_first_hangs_after_printing():
    print("FIRST-TEST-OUTPUT", flush=True)
    time.sleep(30)

def test_second_sees_only_itself():
    assert conftest.SEEN == ["test_second_sees_only_itself"]
    assert add(1, 1) == 3
'''
    folder = _package(tmp_path, conftest, tests)
    verdicts, outputs, sharing = _run(backend, tmp_path, folder,
                                     "def add(a, b):\n    return a + b\n",
                                     Limits(wall_seconds=1))
    assert sharing["shared_start"] is True
    assert verdicts == {"test_first_hangs_after_printing": Verdict.TIMEOUT,
                        "test_second_sees_only_itself": Verdict.FAILED}
    assert "assert 2 == 3" in outputs["test_second_sees_only_itself"]  # not the SEEN check
    assert "FIRST-TEST-OUTPUT" not in outputs["test_second_sees_only_itself"]


@pytest.mark.parametrize(("tests", "collected_once"), [
    ("import solution\nfrom solution import add\n\n"
     "def test_it():\n    assert add(1, 2) == 3 and solution.add is not None\n", True),
    # decided at import from the module: a stand-in would answer True
    ("import solution\nHAS_BONUS = hasattr(solution, 'bonus')\n\n"
     "def test_it():\n    assert not HAS_BONUS and solution.add(1, 2) == 3\n", False),
    # the student's functions held by a table: a child could not rebind them there
    ("from solution import add\nTABLE = {'+': add}\n\n"
     "def test_it():\n    assert TABLE['+'](1, 2) == 3\n", False),
    # the student's file read at import: the stand-in's file is empty
    ("import solution\nSOURCE = open(solution.__file__).read()\n\n"
     "def test_it():\n    assert 'def add' in SOURCE\n", False),
])
def test_tests_collect_once_only_when_they_just_bind_the_students_names(
    backend, tmp_path, tests, collected_once
):
    folder = _package(tmp_path, None, tests)
    verdicts, outputs, sharing = _run(backend, tmp_path, folder,
                                      "def add(a, b):\n    return a + b\n")
    assert sharing["shared_collect"] is collected_once
    assert verdicts == {"test_it": Verdict.PASSED}, outputs


def test_a_missing_name_fails_each_test_as_the_import_would(backend, tmp_path):
    folder = _package(tmp_path, None)
    verdicts, outputs, sharing = _run(backend, tmp_path, folder,
                                      "def plus(a, b):\n    return a + b\n")
    assert sharing["shared_collect"] is True
    assert set(verdicts.values()) == {Verdict.FAILED}
    assert all("cannot import name 'add' from 'solution'" in text for text in outputs.values())
