"""The test hands the student functions (lambdas, its own defs, builtins) to call."""

import solution


def double(x):
    return 2 * x


def test_apply_to_each_with_a_lambda():
    assert solution.apply_to_each(lambda x: x + 1, [1, 2, 3]) == [2, 3, 4]


def test_apply_to_each_with_a_test_function():
    assert solution.apply_to_each(double, [1, 2]) == [2, 4]


def test_keep_if_with_a_builtin():
    assert solution.keep_if(str.isdigit, ["1", "a", "22"]) == ["1", "22"]


def test_the_callback_sees_each_item_once():
    seen = []
    solution.apply_to_each(seen.append, [5, 6])
    assert seen == [5, 6]
