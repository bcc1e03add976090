"""mock.patch.object(sys, "argv") and mock.patch("sys.argv") around argparse."""

import sys
from unittest import mock

import solution


def test_times_option():
    with mock.patch.object(sys, "argv", ["prog", "hi", "--times", "3"]):
        assert solution.parse() == ("hi", 3)


def test_default_times():
    with mock.patch("sys.argv", ["prog", "yo"]):
        assert solution.parse() == ("yo", 1)
