import pytest
from palindrome import clean, is_palindrome


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A man!", "aman"), ("abc", "abc"), ("Hi, Bob.", "hibob"), ("", "")],
)
def test_clean(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize("text", ["racecar", "abba", "a", ""])
def test_simple_palindromes(text):
    assert is_palindrome(text) is True


@pytest.mark.parametrize("text", ["hello", "ab", "abca"])
def test_not_palindromes(text):
    assert is_palindrome(text) is False
