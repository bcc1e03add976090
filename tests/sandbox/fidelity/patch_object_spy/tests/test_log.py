"""mock.patch.object(solution, "log") and assert_has_calls on the spy."""

from unittest import mock

import solution


def test_process_logs_start_and_done():
    with mock.patch.object(solution, "log") as spy:
        assert solution.process([1, 2]) == 3
    spy.assert_has_calls([mock.call("start"), mock.call("done")])
    assert spy.call_count == 2
