"""unittest's richer assertions: subTest, assertCountEqual, assertAlmostEqual, assertRaises
as a context with its exception, assertIn/IsInstance/IsNone, setUpClass data."""

import unittest

import solution


class TestGrades(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scores = [55, 70, 85, 100]

    def test_letters_for_each_score(self):
        for score, letter in zip(self.scores, "FCBA"):
            with self.subTest(score=score):
                self.assertEqual(solution.letter(score), letter)

    def test_passing_scores_in_any_order(self):
        self.assertCountEqual(solution.passing(self.scores), [100, 85, 70])

    def test_average(self):
        self.assertAlmostEqual(solution.average(self.scores), 77.5, places=3)

    def test_bad_score_raises_with_a_message(self):
        with self.assertRaises(ValueError) as context:
            solution.letter(-1)
        self.assertIn("-1", str(context.exception))

    def test_types(self):
        self.assertIsInstance(solution.passing([]), list)
        self.assertIsNone(solution.best([]))
        self.assertIn(100, solution.passing(self.scores))
