"""A fixture in conftest.py builds the student's object for every test."""

import pytest


def test_deposit(account):
    account.deposit(50)
    assert account.balance == 150


def test_overdraft_is_refused(account):
    with pytest.raises(ValueError):
        account.withdraw(500)
    assert account.balance == 100


def test_owner(account):
    assert account.owner == "ann"
