"""Workspace trees of any shape are copied, measured and removed without recursion or links."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from sandbox import fstree

DEPTH = 3000  # the red team's: past Python's recursion limit and past PATH_MAX


def _deep(root: Path, depth: int = DEPTH) -> None:
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        below = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = below
    with open(os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o640, dir_fd=fd), "w") as f:
        f.write("the bottom")
    os.close(fd)


def _odd(root: Path, outside: Path) -> None:
    root.mkdir()
    (root / "plain").write_text("plain")
    (root / "script").write_text("#!/bin/sh\n")
    (root / "script").chmod(0o4755)  # setuid: never copied as such
    os.mkfifo(root / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "socket"))
    sock.close()
    os.symlink(outside, root / "out")
    os.symlink("/", root / "slash")
    os.symlink("loop", root / "loop")
    (root / "locked").mkdir()
    (root / "locked" / "inside").write_text("x")
    (root / "locked").chmod(0)


@pytest.fixture
def deep_tmp(tmp_path):
    """tmp_path, with any deep tree a failed test left removed by fstree: pytest's own
    clean-up of old temp folders (shutil.rmtree) would hit RecursionError on it in a later run."""
    yield tmp_path
    for name in ("deep", "copy"):
        if (tmp_path / name).exists():
            fstree.remove_tree(tmp_path / name)


def test_a_deep_tree_is_copied_measured_and_removed(deep_tmp):
    tmp_path = deep_tmp
    assert DEPTH > sys.getrecursionlimit()
    _deep(tmp_path / "deep")
    size, count = fstree.tree_usage(tmp_path / "deep")
    assert count == DEPTH + 1 and size >= DEPTH * 4096
    assert fstree.copy_tree(tmp_path / "deep", tmp_path / "copy") == []
    assert fstree.tree_usage(tmp_path / "copy")[1] == DEPTH + 1
    bottom = [e for e in fstree.walk(tmp_path / "copy") if e.name == "bottom"]
    assert len(bottom) == 1 and len(bottom[0].parts) == DEPTH + 1
    assert stat.S_IMODE(bottom[0].info.st_mode) == 0o640
    fstree.remove_tree(tmp_path / "copy")
    fstree.remove_tree(tmp_path / "deep")
    assert not (tmp_path / "copy").exists() and not (tmp_path / "deep").exists()


def test_special_files_are_skipped_links_copied_as_links_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host secret")
    _odd(tmp_path / "odd", outside)
    skipped = fstree.copy_tree(tmp_path / "odd", tmp_path / "copy")
    assert sorted(skipped) == ["fifo", "socket"]
    copy = tmp_path / "copy"
    assert os.readlink(copy / "out") == str(outside) and os.readlink(copy / "slash") == "/"
    assert os.readlink(copy / "loop") == "loop"
    assert (copy / "plain").read_text() == "plain"
    assert stat.S_IMODE((copy / "script").stat().st_mode) == 0o755
    assert stat.S_IMODE((copy / "locked").lstat().st_mode) == 0
    assert not (copy / "fifo").exists() and not (copy / "socket").exists()
    # Usage counts the link, not what it points to.
    assert fstree.tree_usage(tmp_path / "odd")[1] == 9
    fstree.remove_tree(tmp_path / "copy")
    fstree.remove_tree(tmp_path / "odd")
    assert (outside / "secret").read_text() == "host secret"  # removal did not follow "out"
    assert not (tmp_path / "odd").exists()


def test_a_link_given_as_the_tree_is_removed_not_followed(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "keep").write_text("keep")
    os.symlink(tmp_path / "target", tmp_path / "link")
    fstree.remove_tree(tmp_path / "link")
    assert not (tmp_path / "link").is_symlink()
    assert (tmp_path / "target" / "keep").read_text() == "keep"
    fstree.remove_tree(tmp_path / "missing")  # fine


def test_a_copy_into_an_existing_folder_keeps_its_folder_and_refuses_to_overwrite(tmp_path):
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "sub" / "f").write_text("new")
    (tmp_path / "dst").mkdir()
    fstree.copy_tree(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst" / "sub" / "f").read_text() == "new"
    with pytest.raises(FileExistsError):
        fstree.copy_tree(tmp_path / "src", tmp_path / "dst")


def test_ignore_leaves_out_names_at_every_depth(tmp_path):
    (tmp_path / "src" / "a" / "__pycache__").mkdir(parents=True)
    (tmp_path / "src" / "a" / "m.pyc").write_bytes(b"x")
    (tmp_path / "src" / "a" / "m.py").write_text("x")
    fstree.copy_tree(tmp_path / "src", tmp_path / "dst",
                     ignore=lambda folder, names: {n for n in names
                                                   if n == "__pycache__" or n.endswith(".pyc")})
    assert sorted(e.path for e in fstree.walk(tmp_path / "dst")) == ["a", "a/m.py"]


def test_a_tree_is_written_at_any_depth_from_paths(tmp_path):
    (tmp_path / "root").mkdir()
    parts = ("d",) * DEPTH
    with fstree.TreeWriter(tmp_path / "root") as writer:
        writer.mkdir(parts[:1], 0o755)
        writer.file((*parts, "f"), open(os.devnull, "rb"), 0o644)
        writer.file(("top",), open(os.devnull, "rb"), 0o600)
    assert fstree.tree_usage(tmp_path / "root")[1] == DEPTH + 2
    fstree.remove_tree(tmp_path / "root")


def test_temporary_folders_are_removed_whatever_they_hold(tmp_path):
    with fstree.temporary_folder("t-", tmp_path) as folder:
        _deep(folder / "deep", 1500)
        os.mkfifo(folder / "fifo")
    assert list(tmp_path.iterdir()) == []
