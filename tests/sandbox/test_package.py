"""Assignment packages: the contract teachers write, and a clear error for every mistake."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from sandbox.package import PackageError, load_package, open_package

ROOT = Path(__file__).resolve().parents[2]
ADD = ROOT / "examples" / "packages" / "add_two_numbers"

MINIMAL = """
title = "T"
language = "python"
submission = "solution.py"
[[tests]]
type = "io"
stdin = "1\\n"
expected_stdout = "1\\n"
"""


def write_package(tmp_path: Path, toml: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "assignment.toml").write_text(toml)
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_example_package_loads_with_every_key_of_the_contract():
    package = load_package(ADD)
    assert package.title == "Add two numbers"
    assert package.language == "python"
    assert package.submission == "solution.py"
    assert package.limits.cpu_seconds == 2 and package.limits.memory_mb == 256
    assert [t.type for t in package.tests] == ["pytest", "io", "io"]
    assert package.tests[0].file == "tests/test_add.py"
    assert package.tests[2].visibility == "hidden" and package.tests[2].points == 2


def test_minimal_package_gets_default_limits_and_points(tmp_path):
    package = load_package(write_package(tmp_path, MINIMAL))
    assert package.limits.wall_seconds == 10
    assert package.tests[0].points == 1 and package.tests[0].visibility == "visible"
    assert package.tests[0].name == "io test 1"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('title = "T"\nlanguage = "python"\nsubmission = ', "not valid TOML"),
        (MINIMAL.replace('"python"', '"rust"'), "unknown language 'rust'"),
        (MINIMAL.replace('"solution.py"', '"solution.c"'), "must end with .py"),
        (MINIMAL.replace('"solution.py"', '"../x.py"'), "plain file name"),
        (MINIMAL.replace('type = "io"', 'type = "junit"'), "tests[0].type"),
        (MINIMAL + "visibility = 'secret'\n", "visibility must be one of"),
        (MINIMAL + "points = -1\n", "points must be between"),
        (MINIMAL + "pointz = 1\n", "unknown keys ['pointz']"),
        (MINIMAL + '[limits]\nmemory_mb = "lots"\n', "limits.memory_mb must be a number"),
        (MINIMAL + "[limits]\nmemory_mb = 999999\n", "between 16 and 4096"),
        (MINIMAL + "[limits]\nnetwork = true\n", "network = true is not allowed"),
        ('title = "T"\nlanguage = "python"\nsubmission = "s.py"\n', "at least one [[tests]]"),
        (MINIMAL + '[[tests]]\ntype = "pytest"\nfile = "tests/nope.py"\n', "does not exist"),
        (
            MINIMAL + '[[tests]]\ntype = "pytest"\nfile = "../../etc/passwd"\n',
            "relative path inside",
        ),
        (
            MINIMAL.replace('"python"', '"c"').replace("solution.py", "s.c")
            + '[[tests]]\ntype = "pytest"\nfile = "tests/t.py"\n',
            "pytest tests need language",
        ),
    ],
)
def test_malformed_package_is_refused_with_a_message_naming_the_problem(tmp_path, toml, message):
    write_package(tmp_path, toml)
    with pytest.raises(PackageError, match=None) as info:
        load_package(tmp_path)
    assert message in str(info.value)


def test_manifest_in_broken_encoding_is_refused(tmp_path):
    (tmp_path / "assignment.toml").write_bytes(b'title = "\xff\xfe"\n')
    with pytest.raises(PackageError, match="not valid UTF-8"):
        load_package(tmp_path)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zipped_package_inside_one_folder_opens(tmp_path):
    entries = {f"add/{p.relative_to(ADD)}": p.read_bytes() for p in ADD.rglob("*") if p.is_file()}
    archive = tmp_path / "add.zip"
    archive.write_bytes(_zip(entries))
    with open_package(archive) as package:
        assert package.title == "Add two numbers"
        assert (package.root / "tests" / "helpers.py").is_file()


def test_zipped_package_with_parent_paths_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"assignment.toml": MINIMAL.encode(), "../../evil.py": b"x"}))
    with pytest.raises(PackageError, match="points outside"), open_package(archive):
        pass
    assert not (tmp_path.parent / "evil.py").exists()


def test_not_a_zip_is_refused(tmp_path):
    archive = tmp_path / "pkg.zip"
    archive.write_bytes(b"this is no zip")
    with pytest.raises(PackageError, match="not a valid zip"), open_package(archive):
        pass
