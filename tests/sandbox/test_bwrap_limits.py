"""The bubblewrap backend's per-run cgroups and scratch tmpfs: made, sized, removed, absent.

The hostile corpus (test_hostile.py) holds the attacks; these pin the mechanics: the limits a
run's groups get, that a killed run and a crashed one leave no group or mount behind, that the
scratch cap is shared and checked at exit, and that the backend works without cgroups.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sandbox.backends import bwrap
from sandbox.backends.bwrap import SCRATCH_DIR, BubblewrapBackend
from sandbox.languages import JVM_EXTRA_RSS_MB, JVM_FLAGS, JVM_NEEDS
from sandbox.types import Limits, RunSpec, Verdict
from tests.sandbox.conftest import RecordingBackend, groups_left

pytestmark = pytest.mark.sandbox

LIMITS = Limits(cpu_seconds=2, wall_seconds=4, memory_mb=96, max_processes=12,
                output_bytes=64_000, file_size_mb=4, tmp_size_mb=8)
SPARE_UID = bwrap.UID_BASE + 200  # a slot of its own, outside the pool other runs use


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def needs_cgroups(backend: BubblewrapBackend) -> None:
    if backend.cgroups is None:
        pytest.skip("no writable cgroup v1 memory and pids hierarchies here")


def _run_and_inspect(backend: BubblewrapBackend, spec: RunSpec) -> dict[str, str]:
    """Read the limits of the run's groups while it runs (the program sleeps a while).

    The backend makes a group, writes its limits, and only then puts the run in it; a group is
    read once it holds a process, so a read never lands between the mkdir and the writes.
    """
    assert backend.cgroups is not None
    seen: dict[str, str] = {}
    before = set(backend.cgroups.groups())
    thread = threading.Thread(target=backend.run, args=(spec,))
    thread.start()
    deadline = time.monotonic() + 20
    wanted = {"memory.limit_in_bytes", "pids.max"}
    while not wanted <= seen.keys() and time.monotonic() < deadline:
        for group in set(backend.cgroups.groups()) - before:
            if f"-{os.getpid()}-" not in group.name:
                continue
            try:
                if not (group / "cgroup.procs").read_text().strip():
                    continue  # not joined yet: its limits may still be the defaults
            except OSError:
                continue
            for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "pids.max"):
                try:
                    seen[name] = (group / name).read_text().strip()
                except OSError:
                    continue
        time.sleep(0.02)
    thread.join()
    return seen


def test_a_runs_groups_bound_its_memory_with_its_scratch_and_its_tasks(backend, workdir):
    needs_cgroups(backend)
    seen = _run_and_inspect(backend, RunSpec(argv=["sleep", "1"], workdir=workdir,
                                             limits=LIMITS))
    memory = (LIMITS.memory_mb + LIMITS.tmp_size_mb) << 20
    assert seen["memory.limit_in_bytes"] == str(memory)
    if backend.cgroups.memsw:
        assert seen["memory.memsw.limit_in_bytes"] == str(memory)  # no swapping past it
    assert seen["pids.max"] == str(LIMITS.max_processes + 2)
    assert groups_left(backend) == []


def test_a_jvm_gets_its_overhead_beyond_the_heap(backend, workdir):
    needs_cgroups(backend)
    (workdir / "Wait.java").write_text(
        "public class Wait { public static void main(String[] a) throws Exception "
        "{ Thread.sleep(1500); } }\n"
    )
    argv = ["java", f"-Xmx{LIMITS.memory_mb}m", *JVM_FLAGS, "/work/Wait.java"]
    seen = _run_and_inspect(backend, RunSpec(argv=argv, workdir=workdir, needs=JVM_NEEDS,
                                             limits=LIMITS.with_(max_processes=32)))
    extra = LIMITS.memory_mb + LIMITS.tmp_size_mb + JVM_EXTRA_RSS_MB
    assert seen["memory.limit_in_bytes"] == str(extra << 20)


def test_a_run_killed_for_its_wall_clock_leaves_no_group_or_mount(backend, workdir):
    result = backend.run(RunSpec(argv=py("import os\nwhile True: os.fork() or os.wait()"),
                                 workdir=workdir, limits=LIMITS.with_(wall_seconds=1)))
    assert result.verdict in (Verdict.TIMEOUT, Verdict.RUNTIME_ERROR)
    assert groups_left(backend) == []


@pytest.fixture
def spare_slot(tmp_path: Path) -> RecordingBackend:
    if os.geteuid() != 0:
        pytest.skip("slots, cgroups and scratch mounts are the root backend's")
    return RecordingBackend(uid_base=SPARE_UID, pool_size=1)


def test_what_a_crashed_run_left_goes_with_the_next_run_of_its_slot(spare_slot, workdir):
    backend = spare_slot
    needs_cgroups(backend)
    assert backend.cgroups is not None
    # A worker killed mid-run leaves its run's groups (here with a process still in them)
    # and its scratch tmpfs mounted.
    sleeper = subprocess.Popen(["sleep", "60"])
    stale = [parent / f"slot{SPARE_UID}-999999-1" for parent in backend.cgroups.parents.values()]
    for group in stale:
        group.mkdir(parents=True)
        (group / "cgroup.procs").write_text(str(sleeper.pid))
    mount = SCRATCH_DIR / str(SPARE_UID)
    mount.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        result = backend.run(RunSpec(argv=["true"], workdir=workdir, limits=LIMITS))
        assert result.verdict == Verdict.PASSED
        assert sleeper.wait(timeout=10) == -9  # the crashed run's process did not survive
        assert not any(group.exists() for group in stale)
        assert not mount.exists()
        assert groups_left(backend) == []
    finally:
        sleeper.kill()
        sleeper.wait()
        for group in stale:
            if group.exists():
                group.rmdir()


def test_a_program_that_ignores_the_full_disk_still_exceeded_it(backend, workdir):
    if os.geteuid() != 0:
        pytest.skip("the scratch tmpfs is the root backend's")
    code = (
        "import os\n"
        "for i in range(10):\n"
        "    fd = os.open(f'/work/f{i}', os.O_WRONLY | os.O_CREAT)\n"
        "    try:\n"
        "        os.posix_fallocate(fd, 0, 3 << 20)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    result = backend.run(RunSpec(argv=py(code), workdir=workdir, limits=LIMITS))
    assert result.verdict == Verdict.OUTPUT_LIMIT
    assert "more than 8 MB of files" in result.message
    assert sum(p.stat().st_size for p in workdir.iterdir()) <= (LIMITS.tmp_size_mb + 1) << 20


def test_work_tmp_and_dev_shm_share_one_cap_and_what_fits_comes_back(backend, workdir):
    if os.geteuid() != 0:
        pytest.skip("the scratch tmpfs is the root backend's")
    fits = ("open('/work/kept', 'wb').write(b'1' * (3 << 20))\n"
            "open('/tmp/t', 'wb').write(b'2' * (3 << 20))\n")
    result = backend.run(RunSpec(argv=py(fits), workdir=workdir, limits=LIMITS))
    assert result.verdict == Verdict.PASSED, result.stderr
    assert (workdir / "kept").stat().st_size == 3 << 20
    overflow = ("open('/dev/shm/s', 'wb').write(b'3' * (4 << 20))\n"
                "open('/tmp/t', 'wb').write(b'4' * (4 << 20))\n"
                "open('/work/w', 'wb').write(b'5' * (2 << 20))\n")  # 10 MB: past the 8 MB cap
    result = backend.run(RunSpec(argv=py(overflow), workdir=workdir, limits=LIMITS))
    assert result.verdict == Verdict.OUTPUT_LIMIT, result.stderr
    assert b"No space left on device" in result.stderr


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_without_cgroups_runs_still_work_and_the_log_says_so_once(workdir, monkeypatch):
    records = _Records()
    logger = logging.getLogger("sandbox.backends.bwrap")
    logger.addHandler(records)
    monkeypatch.setattr(bwrap, "_said", set())
    try:
        first, second = BubblewrapBackend(cgroups=False), BubblewrapBackend(cgroups=False)
    finally:
        logger.removeHandler(records)
    assert first.cgroups is None and second.cgroups is None
    said = [m for m in records.messages if "without cgroups" in m]
    assert len(said) == 1 and "RLIMIT_AS" in said[0]
    result = first.run(RunSpec(argv=py("print(sum(range(10)))"), workdir=workdir, limits=LIMITS))
    assert (result.verdict, result.stdout) == (Verdict.PASSED, b"45\n")
    big = first.run(RunSpec(argv=py("b = bytearray(200 << 20)"), workdir=workdir, limits=LIMITS))
    assert big.verdict == Verdict.MEMORY  # RLIMIT_AS, the second line, still holds


def _zombies_of(uid: int, count: int) -> subprocess.Popen[bytes]:
    """A process that leaves ``count`` zombies of ``uid`` and never reaps them."""
    code = (f"import os, time\nfor _ in range({count}):\n    if os.fork() == 0:\n"
            f"        os.setresuid({uid}, {uid}, {uid}); os._exit(0)\n"
            "print('ready', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
    return holder


def test_a_slot_whose_uid_is_full_of_zombies_gives_way_to_another(workdir, monkeypatch, caplog):
    """bwrap cannot fork when processes of the slot's uid fill RLIMIT_NPROC (dying, or zombies
    of another process, which the slot's kill(-1) cannot clear and we cannot reap). Nothing of
    the program ran, so the run goes to another slot instead of "could not be graded"."""
    if os.geteuid() != 0:
        pytest.skip("slots are the root backend's")
    base = SPARE_UID + 10
    backend = BubblewrapBackend(uid_base=base, pool_size=2)
    limits = LIMITS.with_(max_processes=3)
    holder = _zombies_of(base, limits.max_processes + 2)
    # Both orders of trying the two slots: the full one first, and the free one first.
    monkeypatch.setattr(bwrap.os, "getpid", lambda: 0)
    try:
        for first in (0, 1):
            monkeypatch.setattr(bwrap.time, "monotonic_ns", lambda first=first: first)
            with caplog.at_level(logging.WARNING, logger="sandbox.backends.bwrap"):
                result = backend.run(RunSpec(argv=py("print('ran')"), workdir=workdir,
                                             limits=limits))
            assert result.verdict == Verdict.PASSED and result.stdout == b"ran\n"
        assert f"sandbox slot {base}: bwrap could not fork" in caplog.text
        assert f"processes of uid {base}: {limits.max_processes + 2} Z" in caplog.text
    finally:
        holder.kill()
        holder.wait()


def test_zombies_of_a_slot_left_to_this_process_are_reaped_before_its_next_run(workdir):
    """A child process killed mid-run (a worker, a test's server) leaves its bwrap processes to
    us, the subreaper; the next run of that slot reaps them instead of tripping over them."""
    if os.geteuid() != 0:
        pytest.skip("slots are the root backend's")
    base = SPARE_UID + 20
    backend = BubblewrapBackend(uid_base=base, pool_size=1)
    limits = LIMITS.with_(max_processes=3)
    zombies = []
    for _ in range(limits.max_processes + 2):
        pid = os.fork()
        if pid == 0:
            os.setresuid(base, base, base)
            os._exit(0)
        zombies.append(pid)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
                "State:\tZ" in Path(f"/proc/{pid}/status").read_text() for pid in zombies):
            time.sleep(0.01)  # each child has exited: a zombie now
        result = backend.run(RunSpec(argv=py("print('ran')"), workdir=workdir, limits=limits))
        assert result.verdict == Verdict.PASSED and result.stdout == b"ran\n"
        for pid in zombies:
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reaped by the run
    finally:
        for pid in zombies:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def test_a_group_is_made_when_another_run_removes_the_empty_subtree(tmp_path, monkeypatch):
    """Runs of other slots remove the subtree when they find it empty; mkdir of the subtree can
    then fail with EEXIST for a folder that is gone a moment later (CI saw FileExistsError from
    ``mkdir(exist_ok=True)``). Making the run's group tries again instead of failing the run."""
    from sandbox.backends import cgroups

    parent = tmp_path / "grader"
    real_mkdir = os.mkdir
    raced = []

    def mkdir(path, mode=0o777):
        if Path(path) == parent and not raced:
            raced.append(path)  # it existed when we asked, and another run removed it since
            raise FileExistsError(17, "File exists", str(path))
        real_mkdir(path, mode)

    monkeypatch.setattr(cgroups.os, "mkdir", mkdir)
    made = cgroups._make_group(parent, "slot61000-1-1")
    assert raced and made == parent / "slot61000-1-1" and made.is_dir()
