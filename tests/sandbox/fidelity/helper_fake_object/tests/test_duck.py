"""The test passes the student a fake object of a helper class (duck typing), and reads it."""

import solution
from fakes import FakeAccount


def test_report_reads_the_balance():
    assert solution.report(FakeAccount(5)) == "balance: 5 (fake with 5)"


def test_the_student_can_change_the_object():
    account = FakeAccount(5)
    solution.empty(account)
    assert account.balance == 0
