"""Student uploads: one file, several, or a zip; hostile archives and encodings refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from sandbox.intake import MAX_SUBMISSION_BYTES, IntakeError, normalize_submission


def norm(uploads, submission="solution.py", extensions=(".py",)):
    return normalize_submission(uploads, submission=submission, extensions=extensions)


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_single_file_with_the_right_extension_is_saved_under_the_submission_name():
    result = norm([("my_add.py", b"print(1)\n")])
    assert result.files == {"solution.py": b"print(1)\n"}
    assert result.notes == ["my_add.py was saved as solution.py"]


def test_several_files_keep_their_names():
    result = norm([("solution.py", b"import util\n"), ("util.py", b"X = 1\n")])
    assert set(result.files) == {"solution.py", "util.py"}


def test_zip_of_a_folder_is_flattened():
    data = make_zip({"hw/solution.py": b"x = 1\n", "hw/data.txt": b"1 2\n", "__MACOSX/._x": b""})
    assert set(norm([("hw.zip", data)]).files) == {"solution.py", "data.txt"}


def test_wrong_file_type_is_refused():
    with pytest.raises(IntakeError, match=r"expected a \.py file named solution\.py"):
        norm([("solution.txt", b"hello")])


def test_ambiguous_main_file_is_refused():
    with pytest.raises(IntakeError, match="none is named solution.py"):
        norm([("a.py", b"1"), ("b.py", b"2")])


def test_broken_encoding_is_refused_with_the_position():
    with pytest.raises(IntakeError, match="not UTF-8 text .* position 5"):
        norm([("solution.py", b"x = '\xe9\xff'\n")])


def test_utf8_bom_is_dropped():
    assert norm([("solution.py", b"\xef\xbb\xbfx = 1\n")]).files["solution.py"] == b"x = 1\n"


def test_binary_file_posing_as_source_is_refused():
    with pytest.raises(IntakeError, match="NUL bytes"):
        norm([("solution.py", b"\x7fELF\x00\x00")])


def test_oversize_submission_is_refused():
    with pytest.raises(IntakeError, match="limit is 1,000,000 bytes"):
        norm([("solution.py", b"#" * (MAX_SUBMISSION_BYTES + 1))])


def test_zip_with_parent_path_is_refused():
    with pytest.raises(IntakeError, match="points outside"):
        norm([("x.zip", make_zip({"../solution.py": b"x"}))])


def test_zip_with_absolute_path_is_refused():
    with pytest.raises(IntakeError, match="points outside"):
        norm([("x.zip", make_zip({"/etc/solution.py": b"x"}))])


def test_zip_bomb_is_refused_without_inflating_it():
    bomb = make_zip({"solution.py": b"0" * 50_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(IntakeError, match="zip bomb"):
        norm([("bomb.zip", bomb)])


def test_zip_whose_header_lies_about_size_is_stopped_while_inflating():
    # Stored members have ratio 1, so only counting real bytes catches an oversize archive.
    data = make_zip(
        {"solution.py": b"#" * (MAX_SUBMISSION_BYTES + 10)}, compression=zipfile.ZIP_STORED
    )
    with pytest.raises(IntakeError, match="more than the allowed size"):
        norm([("big.zip", data)])


def test_zip_with_symlink_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("solution.py")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(IntakeError, match="symbolic link"):
        norm([("link.zip", buf.getvalue())])


def test_corrupt_zip_is_refused():
    with pytest.raises(IntakeError, match="not a valid zip"):
        norm([("x.zip", b"PK\x03\x04garbage")])


def test_empty_upload_is_refused():
    with pytest.raises(IntakeError, match="no file"):
        norm([])
