"""mock.patch("builtins.open", mock.mock_open(...)) around the student's open(), read and write."""

from unittest import mock

import solution


def test_sums_the_numbers_of_the_file():
    with mock.patch("builtins.open", mock.mock_open(read_data="3\n4\n")) as fake:
        assert solution.sum_file("numbers.txt") == 7
    fake.assert_called_once_with("numbers.txt")


def test_writes_the_total():
    opener = mock.mock_open()
    with mock.patch("builtins.open", opener):
        solution.save_total("out.txt", [1, 2])
    opener.assert_called_once_with("out.txt", "w")
    opener().write.assert_called_once_with("3\n")
