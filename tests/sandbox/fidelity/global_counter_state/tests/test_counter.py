"""Module-level state of the student's module changed by its functions and read by the test."""

import solution


def test_counter_counts_calls():
    before = solution.count
    solution.tick()
    solution.tick()
    assert solution.count == before + 2


def test_history_records_values():
    solution.record("a")
    solution.record("b")
    assert solution.HISTORY[-2:] == ["a", "b"]
