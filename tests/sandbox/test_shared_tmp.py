"""The test's temporary folders mirrored between the test and the student (agent/shared.py).

Unit tests drive two ``Mirror`` ends over two folders, as the two sandboxes would; the ends
meet only through ``changes()`` → ``apply()``, the JSON that crosses the channel. What the
student side sends is hostile: nothing it says may write outside the folder, follow a link, or
bring a link, FIFO or device to the test's side. The sandbox test runs the real harness.
"""

from __future__ import annotations

import base64
import json
import os
import textwrap

import pytest

from sandbox.harness import run_pytest_file
from sandbox.harness.agent import shared
from sandbox.harness.agent.shared import Mirror
from sandbox.types import Limits, Verdict


def _pair(tmp_path):
    test_root, student_root = tmp_path / "test", tmp_path / "student"
    test_root.mkdir()
    return Mirror(str(test_root)), Mirror(str(student_root)), test_root, student_root


def _send(sender: Mirror, receiver: Mirror):
    delta = sender.changes()
    if delta is not None:
        delta = json.loads(json.dumps(delta))  # only what JSON carries crosses
    receiver.apply(delta)
    return delta


def _tree(root):
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            found[rel] = None if os.path.isdir(path) else open(path, "rb").read()
    return found


def test_files_and_folders_travel_both_ways_and_changes_only_once(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    (test_root / "in.txt").write_text("one two\n")
    (test_root / "deep" / "er").mkdir(parents=True)
    (test_root / "deep" / "er" / "x.bin").write_bytes(b"\0\xff" * 100)
    _send(test, student)
    assert _tree(student_root) == _tree(test_root)
    # The student writes a file and a folder; the test gets them; nothing echoes back.
    (student_root / "out").mkdir()
    (student_root / "out" / "report.txt").write_text("a=1\n")
    (student_root / "in.txt").unlink()
    _send(student, test)
    assert _tree(test_root) == _tree(student_root)
    assert not (test_root / "in.txt").exists()
    assert test.changes() is None and student.changes() is None


def test_a_rewrite_of_the_same_size_within_the_clock_tick_is_seen(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    path = test_root / "data.txt"
    path.write_text("abc")
    _send(test, student)
    info = path.stat()
    path.write_text("xyz")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, same mtime
    _send(test, student)
    assert (student_root / "data.txt").read_text() == "xyz"


def test_a_settled_file_is_not_read_again(tmp_path, monkeypatch):
    test, student, test_root, _ = _pair(tmp_path)
    path = test_root / "old.txt"
    path.write_text("settled")
    old = path.stat().st_mtime_ns - 10**10
    os.utime(path, ns=(old, old))
    reads = []
    real = shared._read
    monkeypatch.setattr(shared, "_read", lambda *a: reads.append(a) or real(*a))
    _send(test, student)
    assert len(reads) == 1
    assert test.changes() is None and len(reads) == 1  # stat tells it is the same
    path.write_text("changed")  # a later write changes the time
    _send(test, student)
    assert len(reads) == 2 and (tmp_path / "student" / "old.txt").read_text() == "changed"


def test_a_file_that_becomes_a_folder_and_back(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    (test_root / "x").write_text("file")
    _send(test, student)
    (test_root / "x").unlink()
    (test_root / "x").mkdir()
    (test_root / "x" / "y").write_text("inside")
    _send(test, student)
    assert (student_root / "x" / "y").read_text() == "inside"
    (student_root / "x" / "y").unlink()
    (student_root / "x").rmdir()
    (student_root / "x").write_text("file again")
    _send(student, test)
    assert (test_root / "x").read_text() == "file again"


def test_links_fifos_and_sockets_stay_on_their_side(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    _send(test, student)
    student_root.mkdir(exist_ok=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    os.symlink(secret, student_root / "link")
    os.symlink("/", student_root / "root")
    os.mkfifo(student_root / "fifo")
    (student_root / "plain.txt").write_text("kept")
    delta = _send(student, test)
    assert set(delta["f"]) == {"plain.txt"} and "d" not in delta
    assert sorted(os.listdir(test_root)) == ["plain.txt"]


@pytest.mark.parametrize("name", [
    "../escaped.txt", "/abs.txt", "a/../../escaped.txt", "./x", "a//b", "", "nul\0.txt",
    "/".join(["d"] * 40), "x" * 300,
])
def test_a_forged_name_writes_nothing(tmp_path, name):
    test, _, test_root, _ = _pair(tmp_path)
    before = _tree(tmp_path)
    test.apply({"f": {name: base64.b64encode(b"forged").decode()}, "d": [name], "g": [name]})
    assert _tree(tmp_path) == before


def test_a_forged_delta_never_follows_a_link_of_the_receiving_side(tmp_path):
    test, _, test_root, _ = _pair(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    os.symlink(outside, test_root / "link")
    os.symlink(outside / "keep.txt", test_root / "file_link")
    test.apply({"d": ["link/sub"], "f": {"link/keep.txt": base64.b64encode(b"x").decode(),
                                         "link/new.txt": base64.b64encode(b"x").decode(),
                                         "file_link": base64.b64encode(b"x").decode()},
                "g": ["link/keep.txt"]})
    assert sorted(os.listdir(outside)) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "keep"
    assert not (test_root / "file_link").is_symlink()  # replaced by the file, target untouched
    assert (test_root / "file_link").read_bytes() == b"x"


@pytest.mark.parametrize("delta", [
    None, [], "x", {"f": "x"}, {"f": {"a": 1}}, {"f": {"a": "not base64!"}}, {"d": "a"},
    {"g": [1, None]}, {"f": {"big": base64.b64encode(b"x" * (shared.MAX_BYTES + 1)).decode()}},
])
def test_a_malformed_delta_is_left_out(tmp_path, delta):
    test, _, test_root, _ = _pair(tmp_path)
    (test_root / "a").write_text("before")
    test.apply(delta)
    assert sorted(os.listdir(test_root)) == ["a"]
    assert (test_root / "a").read_text() == "before"


def test_what_one_message_carries_is_bounded(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    chunk = shared.MAX_BYTES // 2 + 1
    for name in ("a", "b", "c"):
        (test_root / name).write_bytes(name.encode() * chunk)
    first = _send(test, student)
    assert len(first["f"]) == 1  # the others do not fit in this message...
    _send(test, student)
    _send(test, student)
    assert _tree(student_root) == _tree(test_root)  # ...and come with the next ones
    (test_root / "huge").write_bytes(b"h" * (shared.MAX_BYTES + 1))
    assert test.changes() is None  # over what any message carries: stays on its side


def test_an_earlier_tests_folders_are_not_sent_but_one_made_again_is(tmp_path):
    test, student, test_root, student_root = _pair(tmp_path)
    stale = test_root / "test_report_is_sorted_by_count0"  # pytest cuts names at 30 characters
    stale.mkdir()
    (stale / "old.txt").write_text("an earlier test's")
    test.baseline()
    assert test.changes() is None
    # This test's tmp_path has the same name: pytest removed the folder and made it again.
    for path in (stale / "old.txt", stale):
        path.unlink() if path.is_file() else path.rmdir()
    stale.mkdir()
    delta = _send(test, student)
    assert delta == {"d": [stale.name], "g": [f"{stale.name}/old.txt"]}
    assert (student_root / stale.name).is_dir()  # where the student's code writes its report


def test_no_folder_costs_nothing(tmp_path):
    assert Mirror(str(tmp_path / "missing")).changes() is None


PACKAGE_TEST = '''
import os
import subprocess
import sys

import solution


def test_the_student_sees_the_file_and_the_test_sees_the_answer(tmp_path):
    (tmp_path / "in.txt").write_text("3 4")
    solution.add_file(str(tmp_path / "in.txt"), tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == "7"


def test_links_and_fifos_the_student_makes_never_reach_the_test(tmp_path):
    solution.plant(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]
    assert (tmp_path / "plain.txt").read_text() == "kept"


def test_the_students_code_writes_into_tmp_path_first(tmp_path):
    solution.write_into(str(tmp_path))
    assert (tmp_path / "r.txt").read_text() == "r"


def test_the_students_code_writes_into_tmp_path_again(tmp_path):
    # pytest cuts tmp_path's name at 30 characters: this one is the folder of the test before,
    # removed and made again.
    solution.write_into(str(tmp_path))
    assert (tmp_path / "r.txt").read_text() == "r"


def test_an_earlier_tests_files_are_gone(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    (base / "mine.txt").write_text("x")
    assert solution.listing(str(base)) == ["mine.txt"]
'''

PACKAGE_SOLUTION = '''
import os


def add_file(source, target):
    with open(source) as fh:
        a, b = map(int, fh.read().split())
    target.write_text(str(a + b))


def plant(folder):
    with open(os.path.join(folder, "plain.txt"), "w") as fh:
        fh.write("kept")
    os.symlink("/tmp", os.path.join(folder, "link"))
    os.symlink("/work/tests", os.path.join(folder, "tests_link"))
    os.mkfifo(os.path.join(folder, "fifo"))


def write_into(folder):
    with open(os.path.join(folder, "r.txt"), "w") as fh:
        fh.write("r")


def listing(folder):
    return sorted(os.listdir(folder))
'''


@pytest.mark.sandbox
def test_through_the_harness(any_backend, tmp_path):
    package = tmp_path / "package" / "tests"
    package.mkdir(parents=True)
    (package / "test_files.py").write_text(textwrap.dedent(PACKAGE_TEST))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "solution.py").write_text(textwrap.dedent(PACKAGE_SOLUTION))
    results = run_pytest_file(any_backend, package_tests_dir=package,
                              test_file="tests/test_files.py", submission_dir=submission,
                              module_name="solution",
                              limits=Limits(wall_seconds=10.0, cpu_seconds=5.0, memory_mb=512))
    assert [(r.name.rsplit("::", 1)[-1], r.verdict) for r in results] == [
        ("test_the_student_sees_the_file_and_the_test_sees_the_answer", Verdict.PASSED),
        ("test_links_and_fifos_the_student_makes_never_reach_the_test", Verdict.PASSED),
        ("test_the_students_code_writes_into_tmp_path_first", Verdict.PASSED),
        ("test_the_students_code_writes_into_tmp_path_again", Verdict.PASSED),
        ("test_an_earlier_tests_files_are_gone", Verdict.PASSED),
    ], [r.output[-600:] for r in results]
