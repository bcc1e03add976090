import unittest

from calculator import evaluate
from gradescope_utils.autograder_utils.decorators import number, partial_credit, visibility

CASES = [("3 + 4", 7), ("10 - 12", -2), ("6 * 7", 42), ("10 / 4", 2.5)]


class TestEvaluate(unittest.TestCase):
    @partial_credit(4)
    @number("2.1")
    @visibility("visible")
    def test_evaluate(self, set_score=None):
        """evaluate(expression): one point per expression"""
        right = 0
        for expression, expected in CASES:
            try:
                if evaluate(expression) == expected:
                    right += 1
                else:
                    print(f"evaluate({expression!r}) gave {evaluate(expression)!r}")
            except Exception as exc:  # noqa: BLE001 - a crash loses that expression's point
                print(f"evaluate({expression!r}) raised {type(exc).__name__}: {exc}")
        set_score(right)
        self.assertEqual(right, len(CASES), f"{right} of {len(CASES)} expressions right")
