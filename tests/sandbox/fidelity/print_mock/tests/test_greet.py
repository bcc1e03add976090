"""mock.patch("builtins.print"): the test checks how print() was called."""

from unittest import mock

import solution


def test_greets_with_a_single_print_call():
    with mock.patch("builtins.print") as fake_print:
        solution.greet("Ann")
    fake_print.assert_called_once_with("Hello, Ann!")


def test_farewell_prints_two_lines():
    with mock.patch("builtins.print") as fake_print:
        solution.farewell("Ann")
    assert fake_print.call_args_list == [mock.call("Bye, Ann."), mock.call("See you soon.")]
