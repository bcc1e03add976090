"""doctest's runner in the test's own process, on the student's docstring: refused at upload."""

import doctest

import solution


def test_the_examples_of_square_pass():
    doctest.run_docstring_examples(solution.square, {"square": solution.square})
    assert solution.square(3) == 9


def test_parsed_and_run_by_hand():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(solution.square.__doc__, {}, "square", "solution.py", 0)
    assert doctest.DocTestRunner().run(test).failed == 0
