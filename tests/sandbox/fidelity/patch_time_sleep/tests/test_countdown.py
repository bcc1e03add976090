"""mock.patch("time.sleep"): the student's sleeps are recorded, not slept."""

from unittest import mock

import solution


def test_countdown_sleeps_one_second_per_step():
    with mock.patch("time.sleep") as fake_sleep:
        assert solution.countdown(3) == [3, 2, 1]
    assert fake_sleep.call_args_list == [mock.call(1)] * 3
