"""The reference solution check: a package's solution/ graded twice through the real grade()."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from sandbox.grade import GradeReport, grade
from sandbox.outcome import TestOutcome
from sandbox.package import PackageError, load_package
from sandbox.reference import Status, check_reference, compare, solution_files
from sandbox.types import Verdict

ROOT = Path(__file__).resolve().parents[2]
RECURSIVE_SUM = ROOT / "examples" / "packages" / "recursive_sum"
HEADER = 'title = "T"\nlanguage = "python"\nsubmission = "solution.py"\n'


def make_package(root: Path, toml: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "assignment.toml").write_text(HEADER + toml)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def outcome(name: str, verdict: Verdict, score: float = 0.0) -> TestOutcome:
    return TestOutcome(name, score, 1.0, verdict, "visible", "out")


def report(*tests: TestOutcome) -> GradeReport:
    return GradeReport(sum(t.score for t in tests), float(len(tests)), list(tests))


def test_compare_names_failing_and_flaky_tests_and_keeps_the_first_runs_score():
    first = report(outcome("a", Verdict.PASSED, 1), outcome("b", Verdict.FAILED),
                   outcome("c", Verdict.PASSED, 1))
    second = report(outcome("a", Verdict.PASSED, 1), outcome("b", Verdict.FAILED),
                    outcome("c", Verdict.TIMEOUT))
    check = compare([first, second])
    assert check.status == Status.FAILED and (check.score, check.max_score) == (2, 3)
    assert check.failing == [{"name": "b", "verdict": "failed", "output": "out"}]
    assert check.flaky == [{"name": "c", "verdicts": ["passed", "timeout"]}]
    assert [r["score"] for r in check.runs] == [2, 1]


def test_compare_calls_a_different_list_of_tests_flaky():
    check = compare([report(outcome("a", Verdict.PASSED, 1)),
                     report(outcome("a", Verdict.PASSED, 1), outcome("b", Verdict.PASSED, 1))])
    assert check.status == Status.FAILED
    assert check.flaky == [{"name": "(the list of tests)", "verdicts": ["1 vs 2 tests"]}]


def test_compare_passes_only_full_marks_twice():
    full = report(outcome("a", Verdict.PASSED, 1))
    assert compare([full, full]).status == Status.PASSED
    assert compare([full, full]).as_json()["failing"] == []


def test_a_solution_must_be_a_folder_holding_the_submission_file(tmp_path):
    io = '[[tests]]\ntype = "io"\nexpected_stdout = "1\\n"\n'
    make_package(tmp_path / "a", io, {"solution/other.py": "print(1)\n"})
    with pytest.raises(PackageError, match="solution/ has no solution.py"):
        load_package(tmp_path / "a")
    make_package(tmp_path / "b", io, {"solution": "print(1)\n"})
    with pytest.raises(PackageError, match="solution must be a folder"):
        load_package(tmp_path / "b")
    make_package(tmp_path / "c", io, {"solution/solution.py": "x" * 1_000_001})
    with pytest.raises(PackageError, match="solution/ is larger than a submission may be"):
        load_package(tmp_path / "c")
    assert load_package(make_package(tmp_path / "d", io, {})).solution_dir is None


@pytest.mark.parametrize("folder", [".", "solution", "solution/grader"])
def test_a_gradescope_autograder_may_not_hold_the_solution(tmp_path, folder):
    """Its folder is copied into every student's sandbox."""
    files = {"solution/solution.py": "print(1)\n", "solution/grader/run_autograder": "true\n",
             "run_autograder": "true\n"}
    make_package(tmp_path, f'[[tests]]\ntype = "gradescope"\nautograder = "{folder}"\n', files)
    with pytest.raises(PackageError, match="holds or is the package's solution/ folder"):
        load_package(tmp_path)


def test_solution_files_are_named_as_a_submissions(tmp_path):
    root = make_package(tmp_path, '[[tests]]\ntype = "io"\nexpected_stdout = ""\n', {
        "solution/solution.py": "", "solution/lib/util.py": "", "solution/__pycache__/x.pyc": "",
        "solution/.hidden": ""})
    assert sorted(solution_files(load_package(root))) == ["lib/util.py", "solution.py"]


@pytest.mark.sandbox
def test_the_example_reference_solution_gets_full_marks_twice(backend):
    check = check_reference(load_package(RECURSIVE_SUM), backend)
    assert check.status == Status.PASSED, check
    assert (check.score, check.max_score) == (18, 18) and len(check.runs) == 2
    assert check.failing == [] and check.flaky == [] and check.ungradable == ""


@pytest.mark.sandbox
def test_a_wrong_test_and_a_flaky_one_are_both_reported(backend, tmp_path):
    tests = (
        "import random\nimport pytest\nfrom solution import total\n\n"
        "def test_right():\n    assert total([1, 2]) == 3\n\n"
        "def test_expects_the_wrong_value():\n    assert total([1, 2]) == 4\n\n"
        "@pytest.mark.parametrize('n', range(24))\n"
        "def test_coin(n):\n    assert random.random() < 0.5\n"
    )
    root = make_package(tmp_path, '[[tests]]\ntype = "pytest"\nfile = "tests/test_t.py"\n', {
        "tests/test_t.py": tests, "solution/solution.py": "def total(xs):\n    return sum(xs)\n"})
    check = check_reference(load_package(root), backend)
    assert check.status == Status.FAILED
    failing = {t["name"] for t in check.failing}
    assert "test_expects_the_wrong_value" in failing and "test_right" not in failing
    assert "assert 3 == 4" in next(t["output"] for t in check.failing
                                   if t["name"] == "test_expects_the_wrong_value")
    # 24 coins twice: the chance that none differs is 2**-24.
    assert check.flaky and all(t["name"].startswith("test_coin[") for t in check.flaky)
    assert all(sorted(t["verdicts"]) == ["failed", "passed"] for t in check.flaky)


@pytest.mark.sandbox
def test_a_broken_test_file_makes_the_reference_ungradable_with_the_cause(backend, tmp_path):
    root = make_package(tmp_path, '[[tests]]\ntype = "pytest"\nfile = "tests/test_t.py"\n', {
        "tests/test_t.py": "import numpyy\n\ndef test_x():\n    pass\n",
        "solution/solution.py": "x = 1\n"})
    check = check_reference(load_package(root), backend)
    assert check.status == Status.UNGRADABLE and "No module named 'numpyy'" in check.ungradable


@pytest.mark.sandbox
def test_a_reference_that_does_not_compile_is_ungradable_with_the_compiler_message(
    backend, tmp_path
):
    root = make_package(tmp_path, '[[tests]]\ntype = "io"\nexpected_stdout = "1\\n"\n',
                        {"solution/solution.py": "print(1\n"})
    check = check_reference(load_package(root), backend)
    assert check.status == Status.UNGRADABLE and "never closed" in check.compile_output


PROBE = '''
import os, sys
MARKER = "-".join(["REFERENCE", "{token}"])  # built at run time: no constant to find
HOST_PATHS = {host_paths!r}
# Public software read-only bound in: the system and the interpreters' own installs (a pyenv
# tree holds tens of thousands of files; reading them all can outlast the test's limits).
SKIP = ("/usr", "/lib", "/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/var/lib", "/opt",
        "/root/.pyenv", *{{p for p in (sys.base_prefix, sys.prefix) if p not in ("/", "")}})

def found():
    """Every readable file this process can reach that holds the marker."""
    hits = []
    tops = ["/" + d for d in os.listdir("/") if not ("/" + d).startswith(SKIP)]
    roots = [*tops, "/work", "/tmp", "/autograder", os.getcwd(), *sys.path, *HOST_PATHS]
    seen = set()
    for root in roots:
        if root.startswith(SKIP):
            continue
        if os.path.isfile(root):
            roots_files = [root]
        else:
            roots_files = []
            for dirpath, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs
                           if not os.path.join(dirpath, d).startswith(SKIP)]
                roots_files += [os.path.join(dirpath, f) for f in files]
        for path in roots_files:
            if path in seen:
                continue
            seen.add(path)
            try:
                with open(path, "rb") as fh:
                    if MARKER.encode() in fh.read(200_000):
                        hits.append(path)
            except OSError:
                pass
    return sorted(hits)

if __name__ == "__main__":
    print("found" if found() else "not found")
'''


@pytest.mark.sandbox
def test_the_solution_never_reaches_a_students_sandbox_or_the_helpers(backend, tmp_path):
    """A student's program searches everything it can read for a line of the reference
    solution, in an io test and in a pytest test (helpers beside it): it finds nothing. The
    same probe does find the line in a file of its own submission, so the search works."""
    token = secrets.token_hex(8)
    package_root = tmp_path / "package"
    toml = (
        "[limits]\ncpu_seconds = 20\nwall_seconds = 40\n"
        '[[tests]]\ntype = "io"\nname = "probe"\nexpected_stdout = "not found\\n"\n'
        '[[tests]]\ntype = "pytest"\nfile = "tests/test_probe.py"\n'
    )
    make_package(package_root, toml, {
        "tests/test_probe.py": "from solution import found\n\n"
                               "def test_nothing_found():\n    assert found() == []\n",
        "tests/helpers.py": "HELPER = 1\n",
        "solution/solution.py": f"# REFERENCE-{token}\ndef found():\n    return []\n"
                                "print('not found')\n",
    })
    package = load_package(package_root)
    host_paths = [str(package_root), str(package_root / "solution" / "solution.py")]
    probe = PROBE.format(token=token, host_paths=host_paths).encode()
    clean = grade(package, {"solution.py": probe}, backend)
    assert [t.verdict for t in clean.tests] == [Verdict.PASSED, Verdict.PASSED], clean.tests
    control = grade(package, {"solution.py": probe, "notes.txt": f"REFERENCE-{token}".encode()},
                    backend)
    assert [t.verdict for t in control.tests] == [Verdict.FAILED, Verdict.FAILED]
    assert "notes.txt" in control.tests[1].output


@pytest.mark.sandbox
def test_the_example_package_grades_a_copy_without_its_solution_the_same(backend, tmp_path):
    """solution/ changes nothing about how a student's submission is graded."""
    copy = tmp_path / "copy"
    shutil.copytree(RECURSIVE_SUM, copy, ignore=shutil.ignore_patterns("solution"))
    files = {"solution.py": (ROOT / "examples/submissions/recursive_sum/wrong.py").read_bytes()}
    with_solution = grade(load_package(RECURSIVE_SUM), files, backend)
    without = grade(load_package(copy), files, backend)
    assert [(t.name, t.verdict) for t in with_solution.tests] == [
        (t.name, t.verdict) for t in without.tests]
