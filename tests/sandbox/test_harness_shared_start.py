"""The tests' processes fork from one started pytest session, unless starting it uses the student.

Starting a session (configuration, plugins, the initial conftest.py files, the fixture manager)
is most of what a pytest run costs; the trusted side does it once and forks each test's process
from there (``agent/trusted.py``). That is right only when starting it never touches the
student's module: collecting says so (``shared_start``), and a package whose conftest.py imports
the module or reads its file gets a whole session per test, as before. Either way each test
starts from state no other test touched.
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


def _run(backend, tmp_path: Path, folder: Path, source: str,
         limits: Limits | None = None) -> tuple[dict[str, Verdict], dict[str, str], bool]:
    sub = tmp_path / f"sub-{abs(hash(source))}"
    sub.mkdir(exist_ok=True)
    (sub / "solution.py").write_text(source)
    results = run_pytest_file(backend, package_tests_dir=folder, test_file="tests/test_it.py",
                              submission_dir=sub, module_name="solution",
                              limits=limits or Limits(wall_seconds=5))
    ids, shared = next(reversed(job._COLLECTED.values()))  # this package's, used last
    assert set(ids) == {r.nodeid for r in results}
    return ({r.name: r.verdict for r in results}, {r.name: r.output for r in results}, shared)


@pytest.mark.parametrize("conftest", [
    None,
    "import pytest\n\n@pytest.fixture(autouse=True)\ndef quiet(capsys):\n    yield\n",
])
def test_a_package_that_never_uses_the_student_to_start_shares_the_session(
    backend, tmp_path, conftest
):
    folder = _package(tmp_path, conftest)
    right, _, shared = _run(backend, tmp_path, folder, "def add(a, b):\n    return a + b\n")
    assert shared is True
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
    verdicts, outputs, shared = _run(backend, tmp_path, folder,
                                     "def add(a, b):\n    return a + b\n")
    assert shared is False
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
    verdicts, outputs, shared = _run(backend, tmp_path, folder,
                                     "def add(a, b):\n    return a + b\n",
                                     Limits(wall_seconds=1))
    assert shared is True
    assert verdicts == {"test_first_hangs_after_printing": Verdict.TIMEOUT,
                        "test_second_sees_only_itself": Verdict.FAILED}
    assert "assert 2 == 3" in outputs["test_second_sees_only_itself"]  # not the SEEN check
    assert "FIRST-TEST-OUTPUT" not in outputs["test_second_sees_only_itself"]
