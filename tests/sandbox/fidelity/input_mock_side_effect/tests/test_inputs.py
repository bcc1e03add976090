"""mock.patch of builtins.input with a side_effect list, and the mock's call count."""

from unittest import mock

import solution


def test_adds_two_numbers_read_one_per_line():
    with mock.patch("builtins.input", side_effect=["3", "4"]) as fake:
        assert solution.add_two() == 7
    assert fake.call_count == 2


def test_reads_words_until_a_blank_line():
    with mock.patch("builtins.input", side_effect=["a", "b", ""]):
        assert solution.read_words() == ["a", "b"]
