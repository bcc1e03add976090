import pytest
from grades import average, letter


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([90, 80, 70], 80.0), ([100], 100.0), ([1, 2], 1.5)],
)
def test_average(scores, expected):
    assert average(scores) == pytest.approx(expected)


def test_average_of_nothing_is_zero():
    assert average([]) == 0.0


@pytest.mark.parametrize(
    ("score", "expected"),
    [(95, "A"), (85, "B"), (75, "C"), (65, "D"), (30, "F")],
)
def test_letter(score, expected):
    assert letter(score) == expected
