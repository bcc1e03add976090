"""``sanity = true`` in assignment.toml: parsed for io, pytest and static tests, refused when it
is not a boolean, carried to each outcome of the test by grade()."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.package import PackageError, load_package
from tests.conftest import EXAMPLES

SOURCE = EXAMPLES / "packages" / "add_two_numbers"


def _package(tmp_path: Path, sanity: str) -> Path:
    root = tmp_path / "pkg"
    shutil.copytree(SOURCE, root)
    toml = (root / "assignment.toml").read_text()
    marked = toml.replace('name = "sample 1"', f'name = "sample 1"\nsanity = {sanity}', 1)
    assert marked != toml
    (root / "assignment.toml").write_text(marked)
    return root


def test_a_test_marked_sanity_is_parsed_and_others_are_not(tmp_path: Path) -> None:
    package = load_package(_package(tmp_path, "true"))
    assert [(t.name, t.sanity) for t in package.tests] == [
        ("test_add", False), ("sample 1", True), ("negative numbers", False)
    ]


def test_sanity_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="sanity must be true or false"):
        load_package(_package(tmp_path, '"yes"'))


@pytest.mark.sandbox
def test_grade_marks_the_outcomes_of_a_sanity_test(backend, tmp_path: Path) -> None:
    from sandbox.grade import grade

    package = load_package(_package(tmp_path, "true"))
    solution = (EXAMPLES / "submissions" / "add_two_numbers" / "correct.py").read_bytes()
    report = grade(package, {"solution.py": solution}, backend)
    assert [(t.name, t.sanity) for t in report.tests if t.kind == "io"] == [
        ("sample 1", True), ("negative numbers", False)
    ]
    marked = {t["name"]: t["sanity"] for t in report.to_results_json()["tests"]}
    assert marked["sample 1"] is True and marked["negative numbers"] is False
