"""skipif, xfail and pytest.skip() inside a test: only passing tests count."""

import sys

import pytest
import solution


@pytest.mark.skipif(sys.version_info < (3, 8), reason="needs 3.8")
def test_runs_on_this_python():
    assert solution.half(4) == 2


@pytest.mark.skip(reason="switched off by the teacher")
def test_switched_off():
    raise AssertionError


@pytest.mark.xfail(reason="rounding is not asked for yet", strict=True)
def test_half_rounds():
    assert solution.half(3) == 2


def test_half_of_an_odd_number():
    assert solution.half(3) == 1.5
