"""caplog sees the warnings the student's code logs."""

import logging

import solution


def test_negative_values_are_logged(caplog):
    with caplog.at_level(logging.WARNING):
        assert solution.clean([1, -2, 3]) == [1, 3]
    assert "dropping -2" in caplog.text
