"""A student object must not compute the verdict of a test written with a tolerance.

``abs(result - expected) < eps`` asks ``result.__sub__`` when ``result`` is a student object:
its author can answer 0 whatever ``expected`` is. The proxy refuses arithmetic between a student
object and a value of the test (the test fails), while arithmetic between student objects keeps
the student class's semantics. One tiny program per attack in ``harness_cases/arith/solutions``.
"""

from __future__ import annotations

import pytest

from sandbox.types import Verdict
from tests.sandbox.harness_cases.support import passed, run_case, submission

pytestmark = pytest.mark.sandbox

ARITH = "tests/test_arith.py"
TESTS = 6
ATTACKS = [
    "arith_forged_difference.py",  # the red team's: __sub__/__rsub__/__abs__ return 0
    "arith_forged_every_operator.py",
    "arith_lying_float.py",
]


def test_tolerance_tests_pass_for_the_right_answer_only(any_backend, tmp_path):
    right = run_case(any_backend, "arith", submission(tmp_path / "r", case="arith",
                                                      solution="arith_correct.py"), ARITH)
    assert len(right) == TESTS and passed(right) == TESTS, [(r.name, r.output) for r in right]
    wrong = run_case(any_backend, "arith", submission(tmp_path / "w", case="arith",
                                                      solution="arith_wrong.py"), ARITH)
    assert len(wrong) == TESTS and passed(wrong) == 0


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_student_object_cannot_compute_a_tolerance_verdict(any_backend, tmp_path, attack):
    results = run_case(any_backend, "arith", submission(tmp_path, case="arith", solution=attack),
                       ARITH)
    assert len(results) == TESTS
    assert passed(results) == 0, [(r.name, r.verdict, r.output[:300]) for r in results]
    assert {r.verdict for r in results} == {Verdict.FAILED}


def test_the_refusal_names_the_student_object_and_the_operator(backend, tmp_path):
    results = run_case(backend, "arith", submission(tmp_path, case="arith",
                                                    solution="arith_forged_difference.py"), ARITH)
    first = results[0]
    assert "StudentOperandError" in first.output and "'sub'" in first.output, first.output
