import pytest
from palindrome import is_palindrome


@pytest.mark.parametrize(
    "text",
    ["Never odd or even", "A man, a plan, a canal: Panama", "Was it a car or a cat I saw?"],
)
def test_sentences(text):
    assert is_palindrome(text)


def test_mixed_case_word():
    assert is_palindrome("RaceCar")


@pytest.mark.parametrize("text", ["abcda", "Palindrome", "xy, yz"])
def test_near_misses(text):
    assert not is_palindrome(text)
