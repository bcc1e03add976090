"""Student objects used as dict keys and set members, compared and printed on the test's side."""

import solution


def test_equal_points_are_one_set_member():
    points = {solution.Point(1, 2), solution.Point(1, 2), solution.Point(2, 1)}
    assert len(points) == 2


def test_point_as_dict_key():
    counts = {solution.Point(0, 0): "origin"}
    assert counts[solution.Point(0, 0)] == "origin"


def test_str_of_a_point():
    assert str(solution.Point(3, 4)) == "(3, 4)"
    assert f"{solution.Point(1, 1)}" == "(1, 1)"


def test_sorting_points():
    ordered = sorted([solution.Point(2, 0), solution.Point(1, 5)])
    assert [p.x for p in ordered] == [1, 2]
