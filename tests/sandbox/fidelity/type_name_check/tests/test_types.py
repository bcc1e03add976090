import solution


def test_make_returns_a_stack():
    assert type(solution.make()).__name__ == "Stack"


def test_class_attribute():
    assert solution.make().__class__ is solution.Stack


def test_exact_type():
    assert type(solution.make()) is solution.Stack


def test_class_name_through_the_instance():
    assert solution.make().__class__.__name__ == "Stack"


def test_isinstance_still_works():
    assert isinstance(solution.make(), solution.Stack)
    assert isinstance(solution.Stack, type)


def test_a_subclass_is_not_the_exact_type():
    limited = solution.make_limited()
    assert type(limited) is not solution.Stack
    assert type(limited).__name__ == "LimitedStack"
    assert isinstance(limited, solution.Stack)


def test_an_alias_is_the_same_class():
    assert type(solution.make_queue()) is solution.Queue


def test_the_class_keeps_its_own_name():
    assert type(solution.make_queue()).__name__ == "Queue"


def test_a_nested_class():
    kind = type(solution.make_inner())
    assert (kind.__qualname__, kind.__module__) == ("Outer.Inner", "solution")


def test_an_iterator_class():
    steps = solution.countdown(3)
    assert type(steps).__name__ == "Countdown"
    assert steps.__class__ is solution.Countdown
    assert list(steps) == [3, 2, 1]
