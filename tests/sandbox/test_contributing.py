"""CONTRIBUTING.md's worked example stays true: its test-type module is taken out of the file,
registered as the text says (one line in TEST_TYPES), and grades a correct and a wrong program
in the real sandbox; its TOML entry parses as written."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox import testtypes
from sandbox.grade import grade
from sandbox.package import PackageError, load_package
from sandbox.types import Verdict
from tests.conftest import ROOT

TEXT = (ROOT / "CONTRIBUTING.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, flags=re.S)


def _block(language: str, containing: str) -> str:
    found = [body for lang, body in BLOCKS if lang == language and containing in body]
    assert len(found) == 1, f"CONTRIBUTING.md: one {language} block with {containing!r}"
    return found[0]


@pytest.fixture
def exit_code_type(tmp_path, monkeypatch):
    path = tmp_path / "exit_code.py"
    path.write_text(_block("python", "class ExitCodeTests"))
    spec = importlib.util.spec_from_file_location("contributing_exit_code", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    line = _block("python", "ExitCodeTests(),").strip()  # the registry line, as written
    name, _, value = line.rstrip(",").partition(":")
    kind = eval(value.strip(), {"ExitCodeTests": module.ExitCodeTests})  # noqa: S307 (our doc)
    monkeypatch.setitem(testtypes.TEST_TYPES, eval(name), kind)  # noqa: S307
    return kind


def _package(root: Path, entry: str) -> Path:
    root.mkdir()
    (root / "assignment.toml").write_text(textwrap.dedent('''
        title = "Exit codes"
        language = "python"
        submission = "solution.py"
    ''') + entry)
    return root


def test_the_documented_toml_entry_parses_with_the_registered_type(exit_code_type, tmp_path):
    package = load_package(_package(tmp_path / "p", _block("toml", 'type = "exit_code"')))
    (spec,) = package.tests
    assert (spec.type, spec.name, spec.param("exit_code")) == (
        "exit_code", "an empty input is an error", 2)


def test_a_bad_exit_code_is_a_package_error(exit_code_type, tmp_path):
    with pytest.raises(PackageError, match=r"tests\[0\].exit_code must be between 0 and 255"):
        load_package(_package(tmp_path / "p", '[[tests]]\ntype = "exit_code"\nexit_code = 300\n'))


@pytest.mark.sandbox
def test_the_documented_type_grades_a_correct_and_a_wrong_program(exit_code_type, tmp_path,
                                                                   backend):
    package = load_package(_package(tmp_path / "p", _block("toml", 'type = "exit_code"')))
    right = b"import sys\nif not sys.stdin.read().strip():\n    sys.exit(2)\n"
    wrong = b"print('nothing to do')\n"
    passed = grade(package, {"solution.py": right}, backend)
    failed = grade(package, {"solution.py": wrong}, backend)
    assert (passed.score, passed.tests[0].verdict) == (1.0, Verdict.PASSED)
    assert (failed.score, failed.tests[0].verdict) == (0.0, Verdict.FAILED)
    assert failed.tests[0].output == "Your program exited with status 0; expected 2."
