"""caplog sees the records the student's code logs, at the levels the test sets."""

import logging

import solution


def test_negative_values_are_logged(caplog):
    with caplog.at_level(logging.WARNING):
        assert solution.clean([1, -2, 3]) == [1, 3]
    assert "dropping -2" in caplog.text
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_info_records_when_the_test_asks_for_them(caplog):
    caplog.set_level(logging.INFO)
    solution.clean([5])
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("solution", logging.INFO, "cleaning 1 values")]
