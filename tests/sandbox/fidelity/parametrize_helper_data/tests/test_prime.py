"""@pytest.mark.parametrize over a table from a helper module of tests/."""

import pytest
import solution
from cases import CASES


@pytest.mark.parametrize(("n", "expected"), CASES)
def test_is_prime(n, expected):
    assert solution.is_prime(n) is expected
