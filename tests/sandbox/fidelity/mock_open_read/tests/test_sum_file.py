"""mock.patch("builtins.open", mock.mock_open(read_data=...)) around the student's open()."""

from unittest import mock

import solution


def test_sums_the_numbers_of_the_file():
    with mock.patch("builtins.open", mock.mock_open(read_data="3\n4\n")) as fake:
        assert solution.sum_file("numbers.txt") == 7
    fake.assert_called_once_with("numbers.txt")
