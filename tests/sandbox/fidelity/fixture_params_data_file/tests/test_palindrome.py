"""A parametrized fixture whose params come from a JSON file read by a helper module."""

import pytest
import solution
from loader import load_cases


@pytest.fixture(params=load_cases(), ids=lambda case: case[0] or "empty")
def case(request):
    return request.param


def test_palindrome(case):
    word, expected = case
    assert solution.is_palindrome(word) == expected
