"""The Docker backend's session: the runs of one submission share a container of their own,
reset between runs (processes killed, scratch space and IPC emptied, peak memory started
again), each run with its own limits and verdict; the container goes when the session ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.backends import docker_session, session
from sandbox.backends.docker import DockerBackend
from sandbox.backends.docker_pool import Warm, pool_key
from sandbox.backends.docker_session import DockerSession
from sandbox.backends.docker_stream import limits_settable
from sandbox.grade import grade
from sandbox.package import load_package
from sandbox.types import Limits, RunResult, RunSpec, Verdict
from tests.conftest import EXAMPLES
from tests.sandbox.conftest import RecordingBackend, RecordingDockerBackend

CORPUS = Path(__file__).with_name("corpus")
LIMITS = Limits(cpu_seconds=2, wall_seconds=5, memory_mb=128, max_processes=32,
                output_bytes=64_000, file_size_mb=8, tmp_size_mb=16)


@pytest.fixture
def containers(docker_backend: RecordingDockerBackend,
               monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The container of each run, in order."""
    used: list[str] = []
    real = docker_backend._exec_run

    def recording(container_id: str, spec: RunSpec, work_tar: bytes, **kw: Any) -> RunResult:
        used.append(container_id)
        return real(container_id, spec, work_tar, **kw)

    monkeypatch.setattr(docker_backend, "_exec_run", recording)
    return used


@pytest.fixture(params=["runner", "exec"])
def scoped(docker_backend: RecordingDockerBackend, monkeypatch: pytest.MonkeyPatch,
           request: pytest.FixtureRequest) -> Iterator[DockerSession]:
    """A session whose kept containers serve their runs through one runner each
    (``docker_runner``), or with one exec per run (where the host cannot make room for a
    runner): both must give the same results."""
    monkeypatch.setattr(docker_backend, "_use_runner", request.param == "runner")
    with docker_backend.session() as opened:
        yield opened


def sh(scoped: Any, tmp_path: Path, script: str, *, limits: Limits = LIMITS,
       **extra: Any) -> RunResult:
    workdir = tmp_path / f"w{time.monotonic_ns()}"
    workdir.mkdir()
    for name, text in extra.pop("files", {}).items():
        (workdir / name).write_text(text)
    result: RunResult = scoped.run(RunSpec(argv=["sh", "-c", script], workdir=workdir,
                                           limits=limits, discard_workdir=True, **extra))
    return result


def settable(backend: DockerBackend) -> bool:
    """Whether this worker can set a container's limits from the host (root, on the host)."""
    warm = backend._start(pool_key(RunSpec(argv=[], workdir=Path())), None)
    try:
        return limits_settable(warm.id, backend.init_pid(warm.id))
    finally:
        backend._discard(warm.id)


def gone(backend: RecordingDockerBackend, container_id: str) -> bool:
    deadline = time.monotonic() + 15  # removal runs in the background
    while backend.container_exists(container_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not backend.container_exists(container_id)


@pytest.mark.sandbox
@pytest.mark.docker
def test_the_runs_of_a_session_use_one_container_removed_at_its_end(
        docker_backend: RecordingDockerBackend, containers: list[str], tmp_path: Path) -> None:
    with docker_backend.session() as scoped:
        for i in range(4):
            result = sh(scoped, tmp_path, f"echo run {i}")
            assert result.verdict == Verdict.PASSED and result.stdout == f"run {i}\n".encode()
        assert len(containers) == 4 and len(set(containers)) == 1, containers
        assert docker_backend.container_exists(containers[0])  # kept for the next run
    assert gone(docker_backend, containers[0])
    # After the session a run is a single-use one again.
    assert docker_backend.run(RunSpec(argv=["true"], workdir=tmp_path)).verdict == Verdict.PASSED
    assert containers[-1] != containers[0] and gone(docker_backend, containers[-1])


@pytest.mark.sandbox
@pytest.mark.docker
def test_nothing_a_run_leaves_reaches_the_next_run_of_the_session(
        scoped: DockerSession, containers: list[str], tmp_path: Path) -> None:
    first = sh(scoped, tmp_path, (
        "echo secret > /work/.hidden; echo secret > /tmp/plain; echo secret > /dev/shm/segment; "
        "mkdir -p /tmp/locked/deep && echo secret > /tmp/locked/deep/f && chmod 000 /tmp/locked; "
        "mkdir /work/ro && echo secret > /work/ro/f && chmod 500 /work/ro; ipcmk -M 4096 >&2; "
        # a daemon that holds none of the run's streams, so the run ends normally
        "setsid sh -c 'while :; do echo alive > /tmp/daemon; sleep 0.05; done' "
        "</dev/null >/dev/null 2>&1 & sleep 0.3; echo ok"))
    assert first.verdict == Verdict.PASSED and first.stdout == b"ok\n", first
    time.sleep(0.3)
    second = sh(scoped, tmp_path, (
        "sleep 0.3; ls -A /work /tmp /dev/shm; ipcs -m | grep -c nobody; "
        "for p in /proc/[0-9]*; do cat $p/cmdline 2>/dev/null | tr '\\0' ' '; echo; done"),
        files={"mine": "x"})
    assert containers[0] == containers[1], "the session did not reuse its container"
    listing = second.stdout.decode()
    assert "secret" not in listing and ".hidden" not in listing and "plain" not in listing
    assert "segment" not in listing and "locked" not in listing and "daemon" not in listing
    assert "\n0\n" in listing, listing  # no SysV shared memory segment of the sandbox uid
    assert "while :" not in listing and "sleep 0.05" not in listing, listing
    assert "mine" in listing  # this run's own files were staged after the reset


@pytest.mark.sandbox
@pytest.mark.docker
def test_large_stdin_and_workdir_reach_the_program_and_the_session_stays_in_step(
        scoped: DockerSession, containers: list[str], tmp_path: Path) -> None:
    # The runner streams both (it never holds them whole, in a container of 128 MB); a
    # program that reads none of its stdin leaves the rest to be skipped, not to the next run.
    stdin = b"x" * (6 << 20)
    counted = sh(scoped, tmp_path, "wc -c; wc -c < big", stdin=stdin,
                 files={"big": "y" * (12 << 20)})
    assert counted.verdict == Verdict.PASSED, (counted.message, counted.stderr)
    assert counted.stdout.split() == [b"6291456", b"12582912"]
    ignored = sh(scoped, tmp_path, "echo ignored", stdin=stdin)
    assert ignored.verdict == Verdict.PASSED and ignored.stdout == b"ignored\n"
    closed = sh(scoped, tmp_path, "exec 0<&-; head -c 3 /dev/zero | wc -c", stdin=stdin)
    assert closed.verdict == Verdict.PASSED and closed.stdout == b"3\n"
    after = sh(scoped, tmp_path, "cat", stdin=b"in step\n")
    assert after.stdout == b"in step\n" and len(set(containers)) == 1


@pytest.mark.sandbox
@pytest.mark.docker
def test_a_run_cannot_stop_or_talk_for_the_runner_that_serves_the_session(
        docker_backend: RecordingDockerBackend, containers: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_backend, "_use_runner", True)
    if not settable(docker_backend):
        pytest.skip("this worker cannot set a container's limits: sessions use one exec a run")
    attack = (
        # every process it can see, the runner included; every fd it might have inherited
        'for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$p" = $$ ] || kill -9 "$p" 2>/dev/null; '
        "done; kill -9 -1; kill -STOP -1; "
        "for fd in 3 4 5 6 7 8 9; do echo forged >&$fd; done 2>/dev/null; "
        "cat /proc/[0-9]*/fd/0 > /tmp/stolen 2>/dev/null; wc -c < /tmp/stolen; "
        'python3 -c "import os; print(os.getuid())"')
    with docker_backend.session() as scoped:
        first = sh(scoped, tmp_path, "echo first")
        runner = docker_backend.runner_of(containers[0])
        assert runner is not None, "no runner in the session's container"
        hit = sh(scoped, tmp_path, attack)
        assert hit.verdict == Verdict.PASSED, (hit.message, hit.stderr)
        # nothing read from another process's stdin (the runner's requests), no fd of its own
        assert hit.stdout.splitlines() == [b"0", b"65534"], hit.stdout
        after = sh(scoped, tmp_path, "echo after")
        assert first.stdout == b"first\n" and after.stdout == b"after\n"
        assert len(set(containers)) == 1 and docker_backend.runner_of(containers[0]) is runner


@pytest.mark.sandbox
@pytest.mark.docker
def test_a_run_that_times_out_does_not_break_the_next_run(
        scoped: DockerSession, containers: list[str], tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    slow = sh(scoped, tmp_path, "(sleep 30 &) ; touch /tmp/left; sleep 30",
              limits=LIMITS.with_(wall_seconds=1))
    assert slow.verdict == Verdict.TIMEOUT
    after = sh(scoped, tmp_path, "echo fine; ls -A /tmp; cat /proc/[0-9]*/comm | grep -c sleep")
    assert after.verdict == Verdict.PASSED
    assert after.stdout == b"fine\n1\n"  # only the container's own idle sleep
    if request.node.callspec.params["scoped"] == "exec":
        assert containers[0] != containers[1]  # the killed run took its container down
    else:  # the runner killed every process of the run; the next run's reset checked it
        assert containers[0] == containers[1]
    again = sh(scoped, tmp_path, "echo again")
    assert again.stdout == b"again\n" and containers[2] == containers[1]


@pytest.mark.sandbox
@pytest.mark.docker
def test_each_run_of_a_session_has_its_own_memory_cpu_and_disk_verdicts(
        scoped: DockerSession, containers: list[str], tmp_path: Path) -> None:
    hog = sh(scoped, tmp_path, "python3 -c 'x = bytearray(400 << 20); print(len(x))'")
    assert hog.verdict == Verdict.MEMORY, hog
    small = sh(scoped, tmp_path, "python3 -c 'print(1)'")
    assert small.verdict == Verdict.PASSED and small.stdout == b"1\n", small
    # Near its limit without passing it, then a small run: the peak is each run's own.
    big = sh(scoped, tmp_path, "python3 -c 'x = bytearray(90 << 20); x[::4096] = b\"1\" * len("
                               "x[::4096]); print(1)'")
    assert big.verdict == Verdict.PASSED and big.max_rss_kb > 90 * 1024, big
    small = sh(scoped, tmp_path, "python3 -c 'print(1)'")
    assert small.verdict == Verdict.PASSED and small.max_rss_kb < 60 * 1024, small
    busy = sh(scoped, tmp_path, "python3 -c 'while True: pass'",
              limits=LIMITS.with_(cpu_seconds=1))
    assert busy.verdict == Verdict.TIMEOUT
    quick = sh(scoped, tmp_path, "true")
    assert quick.verdict == Verdict.PASSED and quick.cpu_seconds < 0.5, quick
    # A run that filled its space and said nothing; the next one has all of it again.
    full = sh(scoped, tmp_path, "python3 fill.py",
              files={"fill.py": (CORPUS / "fill_tmp_quietly.py").read_text()})
    assert full.verdict == Verdict.OUTPUT_LIMIT, full
    fits = sh(scoped, tmp_path, "head -c 6000000 /dev/zero > /tmp/f && "
                                "head -c 6000000 /dev/zero > /work/g && echo wrote")
    assert fits.verdict == Verdict.PASSED and fits.stdout == b"wrote\n", fits
    # Every one of these ran in the session's one container (none was killed by us).
    assert len(set(containers)) == 1, containers


@pytest.mark.sandbox
@pytest.mark.docker
def test_runs_of_other_memory_and_process_limits_share_the_container_each_with_its_own(
        scoped: DockerSession, containers: list[str], tmp_path: Path) -> None:
    hog = "python3 -c 'x = bytearray(150 << 20); print(len(x) >> 20)'"
    forks = "for i in $(seq 30); do sleep 2 >/dev/null 2>&1 & done; wait; echo forked"
    roomy = LIMITS.with_(memory_mb=256, max_processes=48)
    assert sh(scoped, tmp_path, hog, limits=roomy).stdout == b"150\n"
    tight = sh(scoped, tmp_path, hog, limits=LIMITS.with_(memory_mb=64))
    assert tight.verdict == Verdict.MEMORY, tight
    few = sh(scoped, tmp_path, forks, limits=LIMITS.with_(max_processes=8))
    assert few.verdict != Verdict.PASSED, few
    assert sh(scoped, tmp_path, forks, limits=roomy).stdout == b"forked\n"
    assert sh(scoped, tmp_path, hog, limits=roomy).stdout == b"150\n"
    if not settable(scoped._backend):
        pytest.skip("this worker cannot set a container's limits: one per limits set")
    assert len(set(containers)) == 1, containers
    # The scratch space too: 1 MB for one run, 16 MB for the next, in the same container.
    small = sh(scoped, tmp_path, "head -c 2000000 /dev/zero > /tmp/f; df -k /tmp /work | "
               "tail -2", limits=roomy.with_(tmp_size_mb=1))
    assert small.verdict == Verdict.OUTPUT_LIMIT, small
    large = sh(scoped, tmp_path, "head -c 6000000 /dev/zero > /tmp/f && echo fits; "
               "grep -E ' /(work|tmp|dev/shm) ' /proc/mounts", limits=roomy)
    assert large.stdout.startswith(b"fits\n") and large.verdict == Verdict.PASSED, large
    mounts = large.stdout.decode()
    assert mounts.count("size=16384k") == 3 and mounts.count("nosuid,nodev") == 3, mounts
    assert mounts.count("noexec") == 2, mounts  # /work keeps exec, /tmp and /dev/shm do not
    assert len(set(containers)) == 1, containers


@pytest.mark.sandbox
@pytest.mark.docker
def test_grading_in_a_docker_session_scores_as_bubblewrap_does(
        backend: RecordingBackend, docker_backend: RecordingDockerBackend,
        containers: list[str]) -> None:
    package = load_package(EXAMPLES / "packages" / "max_of_list")
    scores = {}
    for kind in ("correct", "wrong"):
        files = {"largest.py": (EXAMPLES / "submissions/max_of_list" / f"{kind}.py").read_bytes()}
        scores[kind] = [
            [(t.name, t.score, str(t.verdict)) for t in grade(package, files, real).tests]
            for real in (backend, docker_backend)
        ]
        assert scores[kind][0] == scores[kind][1], scores[kind]
    assert all(score == 1 for _, score, _ in scores["correct"][0])
    assert any(score == 0 for _, score, _ in scores["wrong"][0])
    # Each grading in one container: Python's syntax check, then the three io tests with their
    # own memory, processes and scratch size set from the host (where it can: else two).
    each = 1 if settable(docker_backend) else 2
    assert len(containers) == 8 and len(set(containers)) == 2 * each, containers
    assert len(set(containers[:4]) & set(containers[4:])) == 0  # never across submissions


# Without Docker: what goes to the session's container and what does not.

class FakeBackend:
    name = "docker"

    def __init__(self, *, settable: bool = False) -> None:
        self.settable = settable
        self.kept: list[Warm | None] = []
        self.plain: list[RunSpec] = []
        self.discarded: list[str] = []
        self.gate = threading.Event()

    def run(self, spec: RunSpec) -> RunResult:
        self.plain.append(spec)
        return RunResult(Verdict.PASSED, 0, None, b"plain", b"", 0.0, 0.0, 0)

    def run_kept(self, spec: RunSpec, held: Warm | None) -> tuple[RunResult, Warm | None]:
        self.kept.append(held)
        if spec.stdin == b"wait":
            self.gate.wait(5)
        warm = held or Warm(f"c{len(self.kept)}", pool_key(spec), settable=self.settable)
        return RunResult(Verdict.PASSED, 0, None, b"kept", b"", 0.0, 0.0, 0), warm

    def discard_later(self, container_id: str) -> None:
        self.discarded.append(container_id)


def test_a_session_keeps_one_container_per_limits_and_sends_the_rest_the_usual_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_session, "MAX_KEYS", 2)
    fake = FakeBackend()
    scoped = DockerSession(fake)  # type: ignore[arg-type]
    spec = RunSpec(argv=["true"], workdir=tmp_path)
    assert scoped.run(spec).stdout == b"kept" and scoped.run(spec).stdout == b"kept"
    assert fake.kept[0] is None and fake.kept[1] is not None and fake.kept[1].id == "c1"
    assert scoped.run(RunSpec(argv=["true"], workdir=tmp_path, ro_binds={"/x": "/y"})).stdout \
        == b"plain"
    assert scoped.run(RunSpec(argv=["true"], workdir=tmp_path, pass_fds=(3,))).stdout == b"plain"
    other = RunSpec(argv=["true"], workdir=tmp_path, limits=Limits(memory_mb=512))
    assert scoped.run(other).stdout == b"kept" and fake.kept[-1] is None
    # Two runs of the same limits at once, with MAX_KEYS containers already: the second does
    # not wait for the container.
    slow = threading.Thread(target=scoped.run, args=(RunSpec(argv=["true"], workdir=tmp_path,
                                                             stdin=b"wait"),))
    slow.start()
    while len(fake.kept) < 4:
        time.sleep(0.01)
    assert scoped.run(spec).stdout == b"plain"
    fake.gate.set()
    slow.join()
    scoped.close()
    assert sorted(fake.discarded) == ["c1", "c3"]
    assert scoped.run(spec).stdout == b"plain"  # an ended session keeps nothing


def test_limits_the_host_can_set_share_the_container_and_another_network_does_not(
        tmp_path: Path) -> None:
    fake = FakeBackend(settable=True)
    scoped = DockerSession(fake)  # type: ignore[arg-type]
    build = RunSpec(argv=["cc"], workdir=tmp_path, limits=Limits(memory_mb=512, max_processes=16))
    scoped.run(build)
    scoped.run(RunSpec(argv=["./a.out"], workdir=tmp_path, limits=Limits(memory_mb=64)))
    assert fake.kept[1] is not None and fake.kept[1].id == "c1"
    scoped.run(RunSpec(argv=["./a.out"], workdir=tmp_path, limits=Limits(tmp_size_mb=8)))
    assert fake.kept[2] is not None and fake.kept[2].id == "c1"  # the scratch size is set too
    scoped.run(RunSpec(argv=["./a.out"], workdir=tmp_path, limits=Limits(network=True)))
    assert fake.kept[3] is None  # another network: a container of its own
    scoped.close()
    assert sorted(fake.discarded) == ["c1", "c4"]


def test_a_session_is_its_backend_for_whoever_keys_by_backend() -> None:
    fake = FakeBackend()
    scoped = DockerSession(fake)  # type: ignore[arg-type]
    assert scoped == fake and fake == scoped and hash(scoped) == hash(fake)
    warm: dict[tuple[object, int], str] = {(fake, 1): "warm"}
    assert warm[(scoped, 1)] == "warm"
    assert scoped == DockerSession(fake)  # type: ignore[arg-type]
    assert scoped != DockerSession(FakeBackend())  # type: ignore[arg-type]


def test_a_backend_without_sessions_is_its_own_session() -> None:
    fake = object()
    with session(fake) as scoped:  # type: ignore[arg-type]
        assert scoped is fake
