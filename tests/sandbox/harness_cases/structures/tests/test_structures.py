import pytest
import solution
from graph import Color, Node, Point


def test_stack_push_pop():
    s = solution.Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2
    assert s.pop() == 1
    assert s.size == 0
    assert len(s) == 0
    assert not s


def test_stack_pop_empty_raises_builtin_base():
    with pytest.raises(ValueError, match="empty"):
        solution.Stack().pop()


def test_stack_pop_empty_raises_student_class():
    with pytest.raises(solution.EmptyStackError):
        solution.Stack().pop()


def test_index_error_from_student():
    with pytest.raises(IndexError):
        solution.nth([1, 2], 5)


def test_sort_in_place():
    items = [3, 1, 2]
    assert solution.sort_in_place(items) is None
    assert items == [1, 2, 3]


def test_mutations_reach_nested_and_shared_objects():
    inner = [1]
    outer = {"a": inner, "b": inner}
    seen = {1}
    solution.grow(outer, seen)
    assert inner == [1, 99]
    assert outer["a"] is outer["b"] is inner
    assert outer["new"] == "yes"
    assert seen == {1, 99}


def test_generator():
    assert list(solution.countdown(3)) == [3, 2, 1]
    gen = solution.countdown(2)
    assert next(gen) == 2
    assert next(gen) == 1
    with pytest.raises(StopIteration):
        next(gen)


def test_graph_with_cycle_both_ways():
    a, b = Node(1), Node(2)
    a.neighbors.append(b)
    b.neighbors.append(a)
    order = solution.visit(a)
    assert order == [1, 2]
    assert a.color is Color.BLACK and b.color is Color.BLACK  # mutated in place
    copy = solution.clone(a)
    assert isinstance(copy, Node) and copy is not a
    assert copy.neighbors[0].neighbors[0] is copy  # the cycle came back as a cycle
    assert copy.equals(a)


def test_helper_dataclass_and_data_file():
    p = solution.make_point(2, 3)
    assert p == Point(2, 3, ["made"])
    assert solution.read_data() == [1, 2, 3]


def test_callback_key_function():
    assert solution.sort_by(["bb", "a", "ccc"], key=len) == ["a", "bb", "ccc"]
    assert solution.sort_by([1, -3, 2], key=lambda x: -x) == [2, 1, -3]


def test_student_objects_compare_among_themselves():
    assert solution.Fraction(1, 2) == solution.Fraction(2, 4)
    assert solution.Fraction(1, 2) != solution.Fraction(1, 3)
    assert len({solution.Fraction(1, 2), solution.Fraction(2, 4)}) == 1


def test_student_output_reaches_capsys(capsys):
    solution.shout("hi")
    assert capsys.readouterr().out == "HI!\n"


def test_isinstance_with_student_class():
    s = solution.Stack()
    assert isinstance(s, solution.Stack)
    assert not isinstance(3, solution.Stack)


def test_values_of_many_types():
    from decimal import Decimal
    from fractions import Fraction

    value = solution.echo([(1, 2.5), {"k": {3}}, b"\x00", None, True, 2**70, Fraction(1, 3),
                           Decimal("1.5"), complex(1, 2), range(3), float("inf")])
    assert value == [(1, 2.5), {"k": {3}}, b"\x00", None, True, 2**70, Fraction(1, 3),
                     Decimal("1.5"), complex(1, 2), range(3), float("inf")]


def test_failing_assertion_shows_values():
    assert solution.Stack().peek_or(7) == 8
