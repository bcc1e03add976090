"""The feedback engine registry: every registered engine builds through its module's ``build``
and declares what the pipeline asks of it; nothing outside the registry names an engine."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from feedback.engines import ENGINES, REGISTRY, EngineError, get_engine
from tests.conftest import ROOT


@pytest.mark.parametrize("name", ENGINES)
def test_each_registered_engine_module_has_a_builder_and_an_engine_named_after_it(name):
    module = importlib.import_module(REGISTRY[name].module)
    assert callable(module.build)
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and getattr(v, "name", None) == name]
    assert len(classes) == 1
    assert isinstance(classes[0].needs_answer_prefix, bool)


def test_an_unknown_engine_is_a_clear_error_listing_the_registered_ones():
    with pytest.raises(EngineError, match="unknown feedback engine 'gpt5'.*transformers"):
        get_engine("gpt5")


def test_the_openai_engine_is_built_with_the_options():
    engine = get_engine("openai", "m", base_url="http://127.0.0.1:9/v1", api_key="k",
                        concurrency=3)
    assert (engine.name, engine.model, engine.needs_answer_prefix) == ("openai", "m", False)
    assert engine.concurrency == 3  # type: ignore[attr-defined]


def _engine_name_comparisons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and side.value in ENGINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_outside_the_engines_branches_on_an_engine_name():
    paths = [p for p in (ROOT / "feedback").rglob("*.py") if "engines" not in p.parts]
    paths += list((ROOT / "grader" / "feedback").rglob("*.py"))
    assert [hit for p in paths for hit in _engine_name_comparisons(p)] == []
