"""A module-scoped fixture holds one student object that the tests use in turn."""

import pytest
import solution


@pytest.fixture(scope="module")
def account():
    return solution.Account(100)


def test_deposit(account):
    account.deposit(50)
    assert account.balance == 150


def test_withdraw_after_the_deposit(account):
    account.withdraw(30)
    assert account.balance == 120
