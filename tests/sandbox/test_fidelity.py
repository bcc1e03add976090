"""Pytest fidelity: a teacher's plain pytest file gives each test the result plain pytest gives.

The corpus (``tests/sandbox/fidelity/``, one folder per idiom, see its ``support.py``) runs
every test file with plain pytest in a subprocess (the oracle) and through the harness on the
real bubblewrap and Docker backends, with a correct and a buggy solution; the per-test pass/fail
maps must be equal. Idioms the harness cannot support safely are refused at upload instead
(``REFUSED``) and, should one reach grading, give "could not be graded" for any submission,
never a score. A few known gaps are listed with their reason and expected to disagree (strict
xfail: fixing one fails here until it moves out of the list). Figures: ``.venv/bin/python
bench/fidelity.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.harness import run_pytest_file
from sandbox.harness.lint import cautions, check
from sandbox.harness.traces import Evidence
from sandbox.types import Fault, Limits, Verdict
from tests.sandbox.fidelity.support import (
    KNOWN_GAPS,
    LIMITS,
    VARIANTS,
    compare,
    files_of,
    idioms,
    make_package,
    refused,
)

SUPPORTED = [i for i in idioms() if refused(i) is None]
REFUSED = [i for i in idioms() if refused(i) is not None]


def _cases() -> list[object]:
    return [pytest.param(i, marks=pytest.mark.xfail(reason=KNOWN_GAPS[i], strict=True))
            if i in KNOWN_GAPS else i for i in SUPPORTED]


def test_the_corpus_has_at_least_forty_supported_idioms():
    assert len(SUPPORTED) - len(KNOWN_GAPS) >= 40
    assert set(KNOWN_GAPS) <= set(SUPPORTED)


def _agrees_with_plain_pytest(backend, tmp_path, idiom):
    correct, buggy = (compare(backend, idiom, variant, tmp_path) for variant in VARIANTS)
    # The corpus itself: plain pytest tells the two solutions apart.
    assert correct.plain and correct.plain != buggy.plain, f"{idiom}: a useless pair"
    assert correct.agrees, correct.differences()
    assert buggy.agrees, buggy.differences()


@pytest.mark.sandbox
@pytest.mark.parametrize("idiom", _cases())
def test_each_test_gets_the_result_plain_pytest_gives_it(backend, tmp_path, idiom):
    _agrees_with_plain_pytest(backend, tmp_path, idiom)


@pytest.mark.sandbox
@pytest.mark.docker
@pytest.mark.parametrize("idiom", _cases())
def test_each_test_gets_the_result_plain_pytest_gives_it_on_docker(docker_backend, tmp_path,
                                                                    idiom):
    _agrees_with_plain_pytest(docker_backend, tmp_path, idiom)


@pytest.mark.parametrize("idiom", REFUSED)
def test_an_unsupported_idiom_is_named_at_upload_with_its_reason(idiom):
    findings = check(Path(__file__).parent / "fidelity" / idiom / "tests", "solution")
    assert findings, f"{idiom} is not refused"
    text = "\n".join(map(str, findings))
    assert refused(idiom) in text
    assert all(f.file.startswith("tests/test_") and f.line > 0 for f in findings)


@pytest.mark.sandbox
@pytest.mark.parametrize("idiom", REFUSED)
def test_an_unsupported_idiom_that_reaches_grading_is_never_a_score(backend, tmp_path, idiom):
    for variant in VARIANTS:
        package = make_package(idiom, variant, tmp_path / variant)
        submission = tmp_path / f"{variant}-submission"
        submission.mkdir()
        shutil.copy(package / "solution.py", submission / "solution.py")
        for test_file in files_of(idiom):
            cases = run_pytest_file(backend, package_tests_dir=package / "tests",
                                    test_file=test_file, submission_dir=submission,
                                    module_name="solution", limits=LIMITS)
            assert cases and {(c.verdict, c.fault) for c in cases} == {
                (Verdict.SANDBOX_ERROR, Fault.PACKAGE)}, [c.output for c in cases]


def _inline_package(tmp_path: Path, files: dict[str, str], solution: str) -> tuple[Path, Path]:
    tests = tmp_path / "pkg" / "tests"
    for name, text in files.items():
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text(text)
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "solution.py").write_text(solution)
    return tests, submission


def _run_inline(backend, tmp_path: Path, test_file: str, text: str, solution: str,
                check_clean: bool = False, limits: Limits = LIMITS) -> list:
    """The cases of one test file (``tests/<test_file>``) run against ``solution``."""
    tests, submission = _inline_package(tmp_path, {test_file: text}, solution)
    if check_clean:  # what this test reaches, the upload check does not see
        assert check(tests, "solution") == []
    return run_pytest_file(backend, package_tests_dir=tests, test_file=f"tests/{test_file}",
                           submission_dir=submission, module_name="solution", limits=limits)


@pytest.mark.sandbox
def test_a_copy_of_the_students_file_never_runs_in_the_tests_process(backend, tmp_path):
    # Not found by reading the test: stopped by the audit hook when the copy is about to run.
    [case] = _run_inline(backend, tmp_path, "test_copy.py", (
        "import runpy, shutil, solution\n\n"
        "def test_copy_and_run(tmp_path):\n"
        "    shutil.copy(solution.__file__, tmp_path / 'copy.py')\n"
        "    assert runpy.run_path(str(tmp_path / 'copy.py'))['add'](2, 3) == 5\n"
    ), "def add(a, b):\n    return a + b\n", check_clean=True)
    assert (case.verdict, case.fault) == (Verdict.SANDBOX_ERROR, Fault.PACKAGE)
    assert "a copy of the file" in case.output


@pytest.mark.sandbox
def test_a_submission_copying_a_helper_module_is_graded_not_refused(backend, tmp_path):
    # The guard compares code with the student's only for files that are not the tests' own:
    # a submission cannot make a test "could not be graded" by imitating a helper.
    helper = "def add(a, b):\n    return a + b\n"
    tests, submission = _inline_package(tmp_path, {"helpers.py": helper, "test_add.py": (
        "import helpers\nimport solution\n\n"
        "def test_add():\n    assert solution.add(2, 3) == helpers.add(2, 3)\n"
    )}, helper)
    [case] = run_pytest_file(backend, package_tests_dir=tests, test_file="tests/test_add.py",
                             submission_dir=submission, module_name="solution", limits=LIMITS)
    assert case.verdict == Verdict.PASSED, case.output


@pytest.mark.sandbox
def test_a_students_exit_may_swallow_an_error_but_never_the_tests_failed_assertion(
    backend, tmp_path
):
    # Under plain pytest a context manager whose __exit__ returns True swallows a failed assert
    # in its block; here it sees the exception (class and message) and may swallow an ordinary
    # error, as a suppress-style exercise needs, but a test's assertion still fails the test.
    cases = _run_inline(backend, tmp_path, "test_cm.py", (
        "import solution\n\n"
        "def test_assert_in_the_block():\n"
        "    with solution.Swallow():\n"
        "        assert solution.value() == 42\n\n"
        "def test_an_error_in_the_block_is_swallowed_and_seen():\n"
        "    cm = solution.Swallow()\n"
        "    with cm:\n"
        "        raise KeyError('gone')\n"
        "    assert cm.seen == ['KeyError', \"'gone'\"]\n"
    ), (
        "class Swallow:\n"
        "    def __init__(self):\n        self.seen = []\n"
        "    def __enter__(self):\n        return self\n"
        "    def __exit__(self, kind, value, tb):\n"
        "        if kind is not None:\n"
        "            self.seen += [kind.__name__, str(value)]\n"
        "        return True\n\n"
        "def value():\n    return 0\n"
    ))
    assert [(c.name, c.verdict) for c in cases] == [
        ("test_assert_in_the_block", Verdict.FAILED),
        ("test_an_error_in_the_block_is_swallowed_and_seen", Verdict.PASSED)], cases


@pytest.mark.sandbox
def test_an_object_of_the_tests_own_class_handed_to_the_student_is_never_a_score(
    backend, tmp_path
):
    # Plain pytest would pass it as it is; only instances of the tests/ helper modules' classes
    # travel (helper_fake_object in the corpus). Neither solution is at fault: the test gives
    # no result, with the fix in its message, instead of failing a correct student.
    [case] = _run_inline(backend, tmp_path, "test_fake.py", (
        "import solution\n\n"
        "class Fake:\n    balance = 5\n\n"
        "def test_report():\n    assert solution.report(Fake()) == 5\n"
    ), "def report(account):\n    return account.balance\n")
    assert (case.verdict, case.fault) == (Verdict.SANDBOX_ERROR, Fault.PACKAGE), case.output
    assert "helper module under tests/" in case.output


SHARED_SET_UP = {"module_fixture_shared_state", "class_fixture_shared_stack",
                 "unittest_setupclass_shared", "setup_module_shared_queue",
                 "conftest_session_fixture_shared"}


def test_set_up_shared_between_tests_is_named_to_the_teacher_and_nothing_else_is():
    # Shown with the package (never a refusal): these files' tests replay the earlier ones.
    corpus = Path(__file__).parent / "fidelity"
    named = {i: cautions(corpus / i / "tests", "solution") for i in SUPPORTED}
    assert {i for i, found in named.items() if found} == SHARED_SET_UP
    [caution] = named["module_fixture_shared_state"]
    assert (caution.file, caution.test, caution.kind) == (
        "tests/test_account.py", "account", "shared_state")
    assert "replays the tests before it" in str(caution)
    [conftest] = named["conftest_session_fixture_shared"]
    assert (conftest.file, conftest.test) == ("tests/conftest.py", "library")


SHORT = LIMITS.with_(wall_seconds=1.0, cpu_seconds=1.0)
_SHARED_ACCOUNT = (
    "import pytest\nimport solution\n\n"
    "@pytest.fixture(scope='module')\ndef account():\n    return solution.Account()\n\n"
)


@pytest.mark.sandbox
def test_each_replayed_test_gets_its_own_time_as_under_plain_pytest(backend, tmp_path):
    # Three tests of 0.6 s each against a 1 s limit: the third one's process runs all three.
    cases = _run_inline(backend, tmp_path, "test_slow.py", _SHARED_ACCOUNT + "".join(
        f"def test_{n}(account):\n    assert account.deposit_slowly(1) == {n}\n\n"
        for n in (1, 2, 3)), (
        "import time\n\nclass Account:\n    def __init__(self):\n        self.balance = 0\n\n"
        "    def deposit_slowly(self, amount):\n        time.sleep(0.6)\n"
        "        self.balance += amount\n        return self.balance\n"), limits=SHORT)
    assert [(c.name, c.verdict) for c in cases] == [
        (f"test_{n}", Verdict.PASSED) for n in (1, 2, 3)], [c.output for c in cases]


@pytest.mark.sandbox
def test_each_replayed_test_gets_its_own_cpu_time_and_no_more(backend, tmp_path):
    # 1 s of CPU per test: two tests of 0.3 s pass, the third one's 1.9 s is over its own
    # second (RLIMIT_CPU counts whole seconds: it gets less than one more), as it would be
    # alone, though under the 3 s of all three tests together.
    cases = _run_inline(backend, tmp_path, "test_cpu.py", _SHARED_ACCOUNT + "".join(
        f"def test_{n}(account):\n    assert account.work({seconds}) == {n}\n\n"
        for n, seconds in ((1, 0.3), (2, 0.3), (3, 1.9))), (
        "import time\n\nclass Account:\n    def __init__(self):\n        self.jobs = 0\n\n"
        "    def work(self, seconds):\n        end = time.process_time() + seconds\n"
        "        while time.process_time() < end:\n            pass\n"
        "        self.jobs += 1\n        return self.jobs\n"),
        limits=LIMITS.with_(wall_seconds=4.0, cpu_seconds=1.0))
    assert [c.verdict for c in cases] == [Verdict.PASSED, Verdict.PASSED, Verdict.TIMEOUT], [
        c.output for c in cases]


@pytest.mark.sandbox
def test_a_replaying_tests_evidence_is_the_lines_of_the_test_itself(backend, tmp_path):
    # Feedback points at the lines a failing test ran: not those of the tests it replays.
    tests, submission = _inline_package(tmp_path, {"test_trace.py": _SHARED_ACCOUNT + (
        "def test_deposit(account):\n    account.deposit(5)\n\n"
        "def test_withdraw(account):\n    account.withdraw(2)\n    assert account.balance == 3\n"
    )}, ("class Account:\n    balance = 0\n\n    def deposit(self, n):\n"
         "        self.balance += n\n\n    def withdraw(self, n):\n        self.balance -= n\n"))
    deposit, withdraw = run_pytest_file(
        backend, package_tests_dir=tests, test_file="tests/test_trace.py",
        submission_dir=submission, module_name="solution", limits=LIMITS, evidence=Evidence())
    assert withdraw.verdict == Verdict.PASSED
    assert deposit.covered is not None and 5 in deposit.covered
    assert withdraw.covered is not None and 8 in withdraw.covered
    assert 5 not in withdraw.covered  # deposit's body ran only while test_deposit was replayed


@pytest.mark.sandbox
def test_a_test_replays_only_the_earlier_tests_it_shares_set_up_with(backend, tmp_path):
    # Another class's fixture, or none, shares nothing: its hanging test is not replayed.
    cases = _run_inline(backend, tmp_path, "test_classes.py", (
        "import pytest\nimport solution\n\n"
        "class TestA:\n    @pytest.fixture(scope='class')\n    def account(self):\n"
        "        return solution.Account()\n\n"
        "    def test_spin(self, account):\n        account.spin()\n\n"
        "def test_alone():\n    assert solution.Account().balance == 0\n\n"
        "class TestB:\n    @pytest.fixture(scope='class')\n    def account(self):\n"
        "        return solution.Account()\n\n"
        "    def test_deposit(self, account):\n        account.balance += 5\n\n"
        "    def test_sees_the_deposit(self, account):\n        assert account.balance == 5\n"
    ), "class Account:\n    def __init__(self):\n        self.balance = 0\n\n"
       "    def spin(self):\n        while True:\n            pass\n", limits=SHORT)
    assert [(c.name, c.verdict) for c in cases] == [
        ("TestA::test_spin", Verdict.TIMEOUT), ("test_alone", Verdict.PASSED),
        ("TestB::test_deposit", Verdict.PASSED), ("TestB::test_sees_the_deposit", Verdict.PASSED),
    ], [c.output for c in cases]


@pytest.mark.sandbox
def test_an_earlier_test_that_hangs_is_named_in_the_later_tests_timeout(backend, tmp_path):
    cases = _run_inline(backend, tmp_path, "test_hang.py", _SHARED_ACCOUNT + (
        "def test_spin(account):\n    account.spin()\n\n"
        "def test_after(account):\n    assert account.balance == 0\n"
    ), "class Account:\n    balance = 0\n\n    def spin(self):\n        while True:\n"
       "            pass\n", limits=SHORT)
    first, second = cases
    assert (first.verdict, second.verdict) == (Verdict.TIMEOUT, Verdict.TIMEOUT)
    assert "while replaying tests/test_hang.py::test_spin" in second.output
    assert "replaying" not in first.output


@pytest.mark.sandbox
def test_docstring_examples_never_run_in_the_tests_process(backend, tmp_path):
    # Past the upload check (the runner's name is built at run time): stopped when it runs.
    [case] = _run_inline(backend, tmp_path, "test_runner.py", (
        "import doctest, solution\n\n"
        "def test_run_by_hand():\n"
        "    runner = getattr(doctest, 'DocTest' + 'Runner')()\n"
        "    test = doctest.DocTestParser().get_doctest(solution.f.__doc__, {}, 'f', 'x', 0)\n"
        "    assert runner.run(test).failed == 0\n"
    ), 'def f():\n    """\n    >>> import sys; sys.PWNED = 1\n    """\n', check_clean=True)
    assert (case.verdict, case.fault) == (Verdict.SANDBOX_ERROR, Fault.PACKAGE), case.output
    assert "docstring examples" in case.output


@pytest.mark.sandbox
def test_a_students_annotation_text_never_runs_in_the_tests_process(backend, tmp_path):
    # typing.get_type_hints and inspect.get_annotations(eval_str=True) eval string annotations
    # under plain pytest; here the student's text is parsed and only names are looked up.
    hostile = "__import__('builtins').__setattr__('PWNED', 1) or int"
    [case] = _run_inline(backend, tmp_path, "test_hints.py", (
        "import builtins, inspect, typing\n"
        "from typing import get_type_hints\n"
        "import pytest, solution\n\n"
        "def test_hints_are_resolved_without_running_them():\n"
        "    with pytest.raises(TypeError):\n"
        "        get_type_hints(solution.f)\n"
        "    with pytest.raises(TypeError):\n"
        "        typing.get_type_hints(solution.f)\n"
        "    inspect.get_annotations(solution.f, eval_str=True)\n"
        "    assert not hasattr(builtins, 'PWNED')\n"
    ), f"def f(x: {hostile!r}):\n    return x\n")
    assert case.verdict == Verdict.PASSED, case.output
