"""__doc__ of the module and of a function, read as attributes."""

import solution


def test_module_docstring():
    assert solution.__doc__ and "rectangles" in solution.__doc__


def test_function_docstring():
    assert solution.area.__doc__ == "Width times height."


def test_area():
    assert solution.area(2, 3) == 6
