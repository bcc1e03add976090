"""unittest.TestCase methods decorated with mock.patch (input, sys.stdout)."""

import io
import unittest
from unittest import mock

import solution


class TestAsk(unittest.TestCase):
    @mock.patch("builtins.input", return_value="7")
    def test_ask_number_returns_an_int(self, fake_input):
        self.assertEqual(solution.ask_number(), 7)
        fake_input.assert_called_once()

    @mock.patch("sys.stdout", new_callable=io.StringIO)
    def test_prints_the_square(self, out):
        solution.print_square(3)
        self.assertEqual(out.getvalue(), "9\n")

    @classmethod
    def setUpClass(cls):
        cls.limit = solution.LIMIT

    def test_limit_from_setupclass(self):
        self.assertEqual(self.limit, 100)
