"""Hostile-input intake: safe zip extraction and submission normalization.

Students and teachers upload files we have never seen. Nothing here trusts a name, a declared
size or an encoding: paths are checked before anything is written, sizes are counted while
bytes are copied (a zip's header may lie), and every refusal is an ``IntakeError`` whose message
a student can act on.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MAX_SUBMISSION_BYTES = 1_000_000  # all files of one submission together
MAX_SUBMISSION_FILES = 50
MAX_COMPRESSION_RATIO = 200  # a 1 kB entry that inflates to more than 200 kB is a bomb
JUNK_PREFIXES = ("__MACOSX/", ".DS_Store")
ZIP_MAGIC = b"PK\x03\x04"


class IntakeError(ValueError):
    """The upload cannot be accepted; the message tells the user why and what to do."""


def safe_member_name(name: str) -> PurePosixPath:
    """Validate an archive member or upload name: relative, no ``..``, no backslashes or drives."""
    if not name or "\\" in name or "\x00" in name or ":" in name:
        raise IntakeError(f"refusing file name {name!r}")
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise IntakeError(f"refusing path {name!r}: it points outside the upload")
    return pure


def _members(
    archive: zipfile.ZipFile, max_files: int
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    members = []
    for info in archive.infolist():
        rel = safe_member_name(info.filename)  # check before skipping: "../x" is refused
        hidden = any(part.startswith(".") for part in rel.parts)
        if info.is_dir() or info.filename.startswith(JUNK_PREFIXES) or hidden:
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise IntakeError(f"refusing symbolic link {info.filename!r} in the zip")
        if info.flag_bits & 0x1:
            raise IntakeError(f"{info.filename!r} is encrypted; upload an unencrypted zip")
        members.append((info, rel))
        if len(members) > max_files:
            raise IntakeError(f"the zip holds more than {max_files} files")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """Read one member, counting real inflated bytes against ``budget`` (declared sizes can lie)."""
    if (
        info.compress_size
        and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
        and info.file_size > 1_000_000
    ):
        raise IntakeError(f"{info.filename!r} looks like a zip bomb (compression ratio too high)")
    out = io.BytesIO()
    with archive.open(info) as src:
        while chunk := src.read(64 * 1024):
            out.write(chunk)
            if out.tell() > budget:
                raise IntakeError("the zip inflates to more than the allowed size (zip bomb?)")
    return out.getvalue()


def read_zip(data: BinaryIO, *, max_files: int, max_total_bytes: int) -> dict[str, bytes]:
    """Read a zip into memory as ``{relative path: bytes}``, refusing traversal, links and bombs."""
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError("this is not a valid zip file") from exc
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info, rel in _members(archive, max_files):
            try:
                content = _read_member(archive, info, max_total_bytes - total)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise IntakeError(f"{info.filename!r} in the zip is damaged: {exc}") from exc
            total += len(content)
            files[str(rel)] = content
    return files


def extract_zip(data: BinaryIO, dest: Path, *, max_files: int, max_total_bytes: int) -> None:
    """Extract a zip under ``dest`` with the checks of ``read_zip``."""
    for rel, content in read_zip(
        data, max_files=max_files, max_total_bytes=max_total_bytes
    ).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@dataclass
class Submission:
    """Normalized student files: ``files`` maps a safe relative name to its bytes."""

    files: dict[str, bytes]
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(len(c) for c in self.files.values())


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """A zip of a folder holds ``folder/solution.py``; the student meant ``solution.py``."""
    tops = {PurePosixPath(name).parts[0] for name in files}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in files):
        return {str(PurePosixPath(*PurePosixPath(n).parts[1:])): c for n, c in files.items()}
    return files


def normalize_submission(
    uploads: list[tuple[str, bytes]], *, submission: str, extensions: tuple[str, ...]
) -> Submission:
    """Turn what a student uploaded (one file, several, or one zip) into the files to grade.

    The main file is saved under ``submission``: a single source file with the right extension
    is renamed to it; otherwise one of the files must already carry that name.
    """
    if not uploads:
        raise IntakeError("no file was uploaded")
    notes: list[str] = []
    if len(uploads) == 1 and (
        uploads[0][0].lower().endswith(".zip") or uploads[0][1].startswith(ZIP_MAGIC)
    ):
        name, data = uploads[0]
        files = _strip_common_folder(
            read_zip(
                io.BytesIO(data),
                max_files=MAX_SUBMISSION_FILES,
                max_total_bytes=MAX_SUBMISSION_BYTES,
            )
        )
        if not files:
            raise IntakeError(f"{name} is empty")
    else:
        files = {}
        for name, data in uploads:
            base = PurePosixPath(name.replace("\\", "/")).name
            safe_member_name(base)
            if base in files:
                raise IntakeError(f"two files are called {base}")
            files[base] = data
    if len(files) > MAX_SUBMISSION_FILES:
        raise IntakeError(f"at most {MAX_SUBMISSION_FILES} files per submission")
    total = sum(len(c) for c in files.values())
    if total > MAX_SUBMISSION_BYTES:
        raise IntakeError(
            f"the submission is {total:,} bytes; the limit is {MAX_SUBMISSION_BYTES:,} bytes"
        )
    sources = [n for n in files if n.endswith(extensions)]
    for name in sources:
        files[name] = _check_text(name, files[name])
    if submission not in files:
        if len(sources) == 1 and "/" not in sources[0]:
            files[submission] = files.pop(sources[0])
            notes.append(f"{sources[0]} was saved as {submission}")
        elif not sources:
            got = ", ".join(sorted(files))
            raise IntakeError(
                f"expected a {' or '.join(extensions)} file named {submission}; got {got}"
            )
        else:
            raise IntakeError(
                f"several {' / '.join(extensions)} files and none is named {submission}: "
                f"rename your main file to {submission}"
            )
    return Submission(files=files, notes=notes)


def _check_text(name: str, data: bytes) -> bytes:
    """Source must be UTF-8 text; a UTF-8 BOM is dropped (compilers choke on it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        raise IntakeError(f"{name} is not a text file (it contains NUL bytes)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(
            f"{name} is not UTF-8 text (invalid byte at position {exc.start}); "
            "save it with UTF-8 encoding and upload again"
        ) from exc
    return data
