"""mock.patch("random.randint"): the student's call to random.randint sees the mock."""

from unittest import mock

import solution


def test_roll_uses_randint_from_one_to_six():
    with mock.patch("random.randint", return_value=6) as fake:
        assert solution.roll() == 6
    fake.assert_called_once_with(1, 6)


def test_two_rolls_are_added():
    with mock.patch("random.randint", side_effect=[2, 5]):
        assert solution.roll_two() == 7
