"""The test-type registry (sandbox.testtypes): the one place a test type's name means anything.

Grading, the package parser, feedback evidence and the feedback pipeline ask the type; a new
type is one module plus one registry line, which the last test here shows with a type that
exists only in this file.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sandbox.grade import grade
from sandbox.outcome import TestOutcome
from sandbox.package import PackageError, load_package
from sandbox.testtypes import TEST_TYPES, TRACED_TYPES, Context, TestSpec, TestType
from sandbox.testtypes.base import entry_name, known_keys, points_and_visibility
from sandbox.types import Verdict

ROOT = Path(__file__).resolve().parents[2]
# Where code may not branch on a test type's name: everything but the registry's own package.
SCANNED = [p for folder in ("sandbox", "feedback", "grader")
           for p in sorted((ROOT / folder).rglob("*.py"))
           if "testtypes" not in p.parts and "migrations" not in p.parts]
ALLOWED: set[Path] = set()


def _names_compared(tree: ast.AST) -> list[tuple[int, str]]:
    """Every (line, registered type name) a comparison in ``tree`` tests against: ``x == "io"``,
    ``kind in ("io", "pytest")``, ``"io" != y``, and Django lookups (``kind__in=("io",)``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.keyword) and node.arg and "__" in node.arg:
            operands = [node.value]
        else:
            continue
        for operand in operands:
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [
                operand]
            found += [(operand.lineno, item.value) for item in items
                      if isinstance(item, ast.Constant) and item.value in TEST_TYPES]
    return found


def test_no_code_outside_the_registry_compares_a_test_type_name():
    assert any(p.name == "grade.py" for p in SCANNED)
    offences = [f"{p.relative_to(ROOT)}:{line}: {name!r}"
                for p in SCANNED if p not in ALLOWED
                for line, name in _names_compared(ast.parse(p.read_text(encoding="utf-8")))]
    assert offences == []


def test_the_scan_finds_a_branch_on_a_type_name():
    source = ('if spec.type == "io":\n    pass\nok = t.kind in ("static", "x")\n'
              'rows.filter(kind__in=["pytest"])\nTestOutcome(kind="io")\n')
    assert sorted(_names_compared(ast.parse(source))) == [(1, "io"), (3, "static"), (4, "pytest")]


def test_every_registered_type_is_complete_and_named_by_its_key():
    for name, kind in TEST_TYPES.items():
        assert kind.name == name and "type" in kind.keys
        assert type(kind).parse is not TestType.parse and type(kind).run is not TestType.run
        # A traced type can be traced and run again; one that is not, neither.
        overrides = type(kind).trace is not TestType.trace, type(kind).rerun is not TestType.rerun
        assert overrides == (kind.traced, kind.traced), name
    assert set(TRACED_TYPES) == {"io", "pytest"}
    assert [n for n, k in TEST_TYPES.items() if k.own_build] == ["gradescope"]
    assert [n for n, k in TEST_TYPES.items() if k.io_diff] == ["io"]


class WordCount(TestType):
    """A new test type, defined here only: the submission file has ``words`` words."""

    name = "word_count"
    keys = frozenset({"type", "name", "points", "visibility", "words"})
    own_build = True  # nothing to build: it reads the upload

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        where = f"tests[{index}]"
        known_keys(raw, where, self.keys)
        points, visibility = points_and_visibility(raw, where)
        if not isinstance(raw.get("words"), int):
            raise PackageError(f"{where}.words must be a whole number")
        # Its own value goes in params: TestSpec gets no field for it.
        return TestSpec(self.name, entry_name(raw, where, "word count"), points, visibility,
                        params=(("words", raw["words"]),))

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        words = len(ctx.files.get(ctx.package.submission, b"").split())
        verdict = Verdict.PASSED if words == spec.param("words") else Verdict.FAILED
        return [self.outcome(spec, verdict, f"{words} words", wall_seconds=0.0)]


def test_a_new_test_type_is_one_class_and_one_registry_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: Any) -> None:
    monkeypatch.setitem(TEST_TYPES, WordCount.name, WordCount())
    (tmp_path / "assignment.toml").write_text(textwrap.dedent("""\
        title = "Three words"
        language = "python"
        submission = "solution.py"

        [[tests]]
        type = "word_count"
        words = 3
        points = 2
        """))
    package = load_package(tmp_path)
    assert (package.tests[0].type, package.tests[0].param("words")) == ("word_count", 3)
    good = grade(package, {"solution.py": b"x = 1\n"}, backend)
    bad = grade(package, {"solution.py": b"x = 1 + 2\n"}, backend)
    assert (good.score, good.tests[0].kind, good.tests[0].verdict) == (2, "word_count", "passed")
    assert (bad.score, bad.tests[0].output) == (0, "5 words")
    with pytest.raises(PackageError, match=r"tests\[0\]\.words"):
        (tmp_path / "assignment.toml").write_text(
            'title = "t"\nlanguage = "python"\nsubmission = "s.py"\n'
            '[[tests]]\ntype = "word_count"\nwords = "three"\n')
        load_package(tmp_path)
