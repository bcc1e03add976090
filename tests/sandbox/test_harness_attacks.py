"""Hostile submissions against the pytest harness: none may score above an empty one.

One tiny program per attack in ``harness_cases/attack/solutions``, all run against the same
package, whose tests no wrong or empty solution passes. Each must score 0, keep the number of
results (the maximum score) unchanged, and never be graded PASSED by some other route.
"""

from __future__ import annotations

import pytest

from sandbox.types import Verdict
from tests.sandbox.harness_cases.support import passed, run_case, submission

pytestmark = pytest.mark.sandbox

ATTACK = "tests/test_attack.py"
TESTS = 7

ATTACKS = {
    "attack_exit_import_os.py": {Verdict.RUNTIME_ERROR},
    "attack_exit_import_sys.py": {Verdict.RUNTIME_ERROR},
    "attack_exit_in_call.py": {Verdict.RUNTIME_ERROR},
    "attack_raise_base_exceptions.py": {Verdict.FAILED},
    "attack_always_equal.py": {Verdict.FAILED, Verdict.RUNTIME_ERROR},
    "attack_lying_subclasses.py": {Verdict.FAILED},
    "attack_patch_pytest.py": {Verdict.FAILED},
    "attack_patch_builtins.py": {Verdict.RUNTIME_ERROR},  # it breaks its own side of the channel
    "attack_fake_results.py": {Verdict.FAILED, Verdict.RUNTIME_ERROR},
    # Nothing to kill under bubblewrap (FAILED); under Docker getppid() is 0 (the parent is
    # outside the container) and kill(0) hits the student's own process group (RUNTIME_ERROR).
    "attack_kill_parent.py": {Verdict.FAILED, Verdict.RUNTIME_ERROR},
    "attack_kill_all.py": {Verdict.RUNTIME_ERROR},
    "attack_edit_tests.py": {Verdict.FAILED},
    "attack_forge_protocol.py": {Verdict.RUNTIME_ERROR},
    # Building and refusing huge values takes time: on a busy machine a test may run out of it.
    "attack_huge_values.py": {Verdict.FAILED, Verdict.RUNTIME_ERROR, Verdict.TIMEOUT},
}


def test_baselines_honest_solutions_score_all_or_nothing(any_backend, tmp_path):
    backend = any_backend
    correct = run_case(backend, "attack", submission(tmp_path / "c", case="attack",
                                                     solution="attack_correct.py"), ATTACK)
    assert len(correct) == TESTS and passed(correct) == TESTS
    wrong = run_case(backend, "attack", submission(tmp_path / "w", case="attack",
                                                   solution="attack_wrong.py"), ATTACK)
    assert len(wrong) == TESTS and passed(wrong) == 0
    empty = run_case(backend, "attack", submission(tmp_path / "e", source=""), ATTACK)
    assert len(empty) == TESTS and passed(empty) == 0


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_scores_no_more_than_an_empty_solution(any_backend, tmp_path, attack):
    backend = any_backend
    results = run_case(backend, "attack", submission(tmp_path, case="attack", solution=attack),
                       ATTACK)
    assert len(results) == TESTS
    assert passed(results) == 0, [(r.name, r.verdict, r.output[:300]) for r in results]
    assert {r.verdict for r in results} <= ATTACKS[attack], [
        (r.name, r.verdict, r.output[:300]) for r in results
    ]


def test_student_code_sees_the_helper_files_but_no_test_file(backend, tmp_path):
    source = "import os\ndef add(a, b):\n    return sorted(os.listdir('/work/tests'))\n"
    results = run_case(backend, "attack", submission(tmp_path, source=source), ATTACK)
    assert "assert ['shapes.py'] == 5" in results[0].output


def test_a_student_class_named_like_a_builtin_or_a_helper_is_still_the_students(any_backend,
                                                                               tmp_path):
    # The trusted side names a student class by what the student side says: only a name.
    source = (
        "class Fake:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n"
        "Fake.__name__ = Fake.__qualname__ = 'int'\n"
        "Fake.__module__ = 'builtins'\n"
        "Box = type('Box', (), {'__module__': 'shapes', 'size': 3})\n"
        "def add(a, b):\n    return Fake()\n"
        "def make_box(size):\n    return Box()\n"
    )
    results = run_case(any_backend, "attack", submission(tmp_path, source=source), ATTACK)
    assert len(results) == TESTS
    assert passed(results) == 0, [(r.name, r.verdict, r.output[:300]) for r in results]
    assert {r.verdict for r in results} == {Verdict.FAILED}
