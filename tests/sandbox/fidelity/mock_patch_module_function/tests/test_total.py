"""mock.patch("solution.price_of"): a student function replaced for one test."""

from unittest import mock

import solution


def test_total_asks_the_price_of_every_item():
    with mock.patch("solution.price_of", return_value=10) as fake:
        assert solution.total(["a", "b"]) == 20
    assert fake.call_args_list == [mock.call("a"), mock.call("b")]


def test_total_without_patch():
    assert solution.total(["a", "b"]) == 3
