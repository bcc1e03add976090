import pytest
from grades import average, letter


def test_average_is_a_float():
    result = average([3, 4])
    assert isinstance(result, float)
    assert result == pytest.approx(3.5)


def test_average_does_not_change_the_list():
    scores = [70, 75, 80]
    average(scores)
    assert scores == [70, 75, 80]


@pytest.mark.parametrize(
    ("score", "expected"),
    [(90, "A"), (80, "B"), (70, "C"), (60, "D"), (59, "F"), (100, "A"), (0, "F")],
)
def test_letter_boundaries(score, expected):
    assert letter(score) == expected
