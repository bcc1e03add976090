"""Type hints of a student module written under `from __future__ import annotations`."""

import inspect
import typing

import solution


def test_get_type_hints_resolves_the_text():
    assert typing.get_type_hints(solution.push) == {
        "stack": list[int], "item": int, "return": int | None}


def test_get_annotations_with_eval_str():
    assert inspect.get_annotations(solution.push, eval_str=True)["item"] is int


def test_a_hint_naming_the_students_own_class():
    assert typing.get_type_hints(solution.link)["return"] is solution.Node
