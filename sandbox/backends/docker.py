"""Docker backend: each run in a locked-down, single-use container taken from a warm pool.

Theory of operation
-------------------
A container is started ahead of time (``sleep infinity`` under docker-init) with: no network,
a read-only root, size-capped tmpfs for ``/work``, ``/tmp`` and ``/dev/shm``, memory = memory+swap
(no swap), a pids limit, every capability dropped, ``no-new-privileges``, uid 65534 and no core
dumps. Those are the container-level limits; containers are pooled per distinct set of them
(``_PoolKey``), so a run normally pays no container start.

``run()`` takes a warm container, streams the workdir into ``/work`` with ``tar`` (an exec), execs
the program under ``prlimit`` (CPU seconds, file size, open files: the per-run rlimits) with the
spec's stdin, reads the multiplexed stdout/stderr with caps and the wall clock, then measures
``/work``, ``/tmp`` and ``/dev/shm`` again (one left full is OUTPUT_LIMIT, even for a program
that ignored ENOSPC and exited 0) and streams ``/work`` back (so a build's output reaches the
next run), in one exec; a run whose ``/work`` is discarded is measured from the host instead,
through the container's ``/proc/<pid>/root``, where this process can see it. Then it throws the
container away. A
container is never reused: nothing a run leaves behind (processes, files, /dev/shm segments)
can reach another run. The pool is refilled by a background thread.

A spec with binds (``ro_binds``/``rw_binds``) cannot use a pre-started container, so it gets a
cold one with those binds. ``pass_fds`` cross into the container the way they cross between
any two processes of one kernel: a host thread hands them over SCM_RIGHTS on a unix socket
bound into the container, where a small shim puts them at their numbers and execs the program
(``_FdHandoff``). Binds and that socket need the worker and the engine to share paths: a
worker in a container mounts its temporary folder at the same path as on the host.

Threat model: as for bubblewrap (see ``sandbox.backends.bwrap``), with the kernel boundary given
by namespaces + cgroups + Docker's default seccomp profile. Containers carry the label
``grader.sandbox.owner=<host>:<pid>``; a new backend removes containers whose owner process is
gone, so a killed worker leaves nothing running for long.

Usage figures: ``cpu_seconds`` and ``max_rss_kb`` come from the container's cgroup v1 counters
when the host exposes them (cpuacct.usage, memory.max_usage_in_bytes, which counts tmpfs pages
too), else 0. A program killed by the kernel OOM killer is recognized by the cgroup's oom_kill
counter.
"""

from __future__ import annotations

import array
import io
import logging
import os
import selectors
import shutil
import signal
import socket
import stat
import struct
import tarfile
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import fstree
from sandbox.types import RunResult, RunSpec, SandboxError, Verdict
from sandbox.verdicts import classify

log = logging.getLogger(__name__)
IMAGE = os.environ.get("SANDBOX_DOCKER_IMAGE", "grader-sandbox:latest")
POOL_SIZE = int(os.environ.get("SANDBOX_DOCKER_POOL", "2"))  # warm containers per limits set
MAX_POOL_KEYS = 6  # distinct limit sets kept warm (run, build, JVM run ... of recent packages)
SANDBOX_UID = "65534:65534"
OWNER = f"{socket.gethostname()}:{os.getpid()}"
LABEL = "grader.sandbox.owner"
TRANSFER_CAP = 256 * 1024 * 1024  # bytes of /work we accept back from a run
CGROUP_ROOT = Path("/sys/fs/cgroup")


class _NotStaged(SandboxError):
    """The exec ended before staging said a word: the program never started."""


@dataclass(frozen=True)
class _PoolKey:
    memory_mb: int
    max_processes: int
    tmp_size_mb: int
    network: bool


@dataclass
class _Warm:
    id: str
    key: _PoolKey


def _key(spec: RunSpec) -> _PoolKey:
    limits = spec.limits
    # The runtime's memory beyond memory_mb (a JVM's beyond its -Xmx heap). Its address space
    # needs no room here (no RLIMIT_AS), and the image has its own /etc (needs.host_paths).
    extra = spec.needs.extra_memory_mb
    return _PoolKey(
        limits.memory_mb + extra, limits.max_processes, limits.tmp_size_mb, limits.network
    )


class DockerBackend:
    """Runs :class:`RunSpec` commands in single-use containers from a warm pool."""

    name = "docker"

    def __init__(
        self, *, image: str = IMAGE, pool_size: int = POOL_SIZE, client: Any = None
    ) -> None:
        from docker.errors import DockerException, ImageNotFound

        import docker

        try:
            self._client = client or docker.from_env(timeout=60)  # type: ignore[attr-defined]
            self._client.images.get(image)
        except ImageNotFound:
            raise SandboxError(
                f"sandbox image {image} not found: run scripts/build-sandbox-image.sh"
            ) from None
        except DockerException as exc:
            raise SandboxError(f"cannot reach the Docker engine: {exc}") from exc
        self._image = image
        self._pool_size = pool_size
        self._pools: dict[_PoolKey, deque[_Warm]] = {}
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._closed = False
        self._killed: set[str] = set()  # containers _kill() took down during their run
        self._removals = ThreadPoolExecutor(max_workers=2, thread_name_prefix="docker-rm")
        self.remove_orphans()
        self._filler = threading.Thread(
            target=self._fill_forever, daemon=True, name="docker-pool-filler"
        )
        self._filler.start()

    # -- public -------------------------------------------------------------------------------

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in a fresh container; the container is gone when this returns."""
        if spec.pass_fds:
            with _FdHandoff(spec.pass_fds) as handoff:
                return self._run(handoff.wrap(spec))
        return self._run(spec)

    def _run(self, spec: RunSpec) -> RunResult:
        workdir = Path(spec.workdir).resolve()
        if not workdir.is_dir():
            raise SandboxError(f"workdir {workdir} is not a folder")
        key = _key(spec)
        binds = bool(spec.ro_binds or spec.rw_binds)
        warm = None if binds else self._take(key)
        if warm is not None:
            try:
                return self._run_in(warm, spec, workdir)
            except _NotStaged:
                # A warm container that died while it waited (the engine under load) takes the
                # exec with it before anything ran, and one that did not stage in time was
                # killed before the program started: running it once in a fresh container is
                # safe and is not a second attempt of the program.
                log.warning("a warm sandbox container did not stage the run; retrying fresh")
        return self._run_in(self._start(key, spec), spec, workdir)

    def _run_in(self, warm: _Warm, spec: RunSpec, workdir: Path) -> RunResult:
        try:
            # Paths a bind covers inside /work are the bind's, as under bubblewrap.
            covered = [
                PurePosixPath(dst).relative_to("/work")
                for dst in [*spec.ro_binds.values(), *spec.rw_binds.values()]
                if PurePosixPath(dst).is_relative_to("/work")
            ]
            result = self._exec_run(warm.id, spec, _tar_of(workdir, covered))
            if warm.id not in self._killed:
                # A run we killed took its container with it; its /work does not matter.
                # Without a copy back the space is measured from the host when it can see the
                # container's mounts (no exec: ~90 ms a run here), else by the finishing exec.
                full = None if not spec.discard_workdir else self._space_full(warm.id)
                if full is None:
                    full = self._finish(warm.id, workdir, copy_back=not spec.discard_workdir)
                if full:
                    result = _disk_exceeded(result, spec)
            return result
        finally:
            self._killed.discard(warm.id)
            # Removal runs in the background: the run's processes are already dead (we waited
            # for the program, or _kill() killed them), and the engine can take seconds to
            # tear a container down under load; the next run need not wait for that.
            self._removals.submit(self._discard, warm.id)

    def close(self) -> None:
        """Stop the filler and remove the warm containers (tests, benchmarks, shutdown)."""
        with self._lock:
            self._closed = True
            warm = [w for pool in self._pools.values() for w in pool]
            self._pools.clear()
            self._wanted.notify_all()
        for w in warm:
            self._discard(w.id)
        self._removals.shutdown(wait=True)

    def remove_orphans(self) -> int:
        """Remove sandbox containers whose owning process on this host is gone."""
        removed = 0
        host = socket.gethostname()
        for container in self._client.containers.list(all=True, filters={"label": LABEL}):
            owner_host, _, pid = container.labels.get(LABEL, "").partition(":")
            if owner_host == host and pid.isdigit() and not _alive(int(pid)):
                self._discard(container.id)
                removed += 1
        return removed

    # -- pool ---------------------------------------------------------------------------------

    def _take(self, key: _PoolKey) -> _Warm | None:
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if len(self._pools) >= MAX_POOL_KEYS:  # forget the least recently added set
                    oldest = next(iter(self._pools))
                    for w in self._pools.pop(oldest):
                        threading.Thread(target=self._discard, args=(w.id,), daemon=True).start()
                pool = self._pools[key] = deque()
            warm = pool.popleft() if pool else None
            self._wanted.notify_all()
            return warm

    def _fill_forever(self) -> None:
        while True:
            with self._lock:
                while not self._closed and not self._short_key():
                    self._wanted.wait(timeout=5)
                if self._closed:
                    return
                key = self._short_key()
            if key is None:
                continue
            try:
                warm = self._start(key, None)
            except SandboxError:
                time.sleep(1)  # engine trouble: runs will start cold and report it
                continue
            with self._lock:
                if self._closed or key not in self._pools:
                    stale = True
                else:
                    self._pools[key].append(warm)
                    stale = False
            if stale:
                self._discard(warm.id)

    def _short_key(self) -> _PoolKey | None:
        for key, pool in self._pools.items():
            if len(pool) < self._pool_size:
                return key
        return None

    def _start(self, key: _PoolKey, spec: RunSpec | None) -> _Warm:
        from docker.errors import DockerException
        from docker.types import Ulimit

        volumes: dict[str, dict[str, str]] = {}
        if spec is not None:
            for src, dst in spec.ro_binds.items():
                volumes[str(Path(src).resolve())] = {"bind": dst, "mode": "ro"}
            for src, dst in spec.rw_binds.items():
                volumes[str(Path(src).resolve())] = {"bind": dst, "mode": "rw"}
        tmp = f"rw,nosuid,nodev,size={key.tmp_size_mb}m,mode=1777"
        try:
            container = self._client.containers.run(
                self._image,
                command=["sleep", "infinity"],
                detach=True,
                init=True,
                # pid 1 (docker-init) and the idle sleep run as root without capabilities;
                # programs are exec'd as SANDBOX_UID, so they cannot ptrace or signal pid 1.
                user="0:0",
                working_dir="/work",
                hostname="sandbox",
                network_mode="bridge" if key.network else "none",
                read_only=True,
                tmpfs={"/work": tmp + ",exec", "/tmp": tmp, "/dev/shm": tmp + ",noexec"},  # noqa: S108
                volumes=volumes,
                mem_limit=f"{key.memory_mb}m",
                memswap_limit=f"{key.memory_mb}m",
                pids_limit=key.max_processes + 4,  # docker-init, sleep, prlimit/tar execs
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                ulimits=[Ulimit(name="core", soft=0, hard=0)],
                labels={LABEL: OWNER},
                environment={},
            )
        except DockerException as exc:
            raise SandboxError(f"could not start a sandbox container: {exc}") from exc
        return _Warm(container.id, key)

    def _kill(self, container_id: str) -> None:
        """Kill every process of the container, fast.

        ``docker kill`` waits (10 s, sometimes twice) for a program blocked writing output
        nobody reads any more, and now and then even after that program is dead; so the run's
        processes die here, without the engine: from the host through the container's pid
        namespace when this process can see it, else with ``kill -9 -1`` as the sandbox uid
        inside (which cannot touch root's pid 1). The container itself goes with the
        background removal (``_discard``), however long the engine takes.
        """
        from docker.errors import DockerException

        api = self._client.api
        self._killed.add(container_id)
        try:
            init_pid = int(api.inspect_container(container_id)["State"].get("Pid") or 0)
            if not _kill_pid_namespace(init_pid):
                exec_id = api.exec_create(container_id, ["kill", "-9", "-1"], user=SANDBOX_UID)
                api.exec_start(exec_id["Id"], detach=True)
        except DockerException:
            pass  # already dead; _discard removes it

    def _discard(self, container_id: str) -> None:
        from docker.errors import DockerException

        try:
            self._client.api.remove_container(container_id, force=True)
        except DockerException:
            pass  # already gone, or the engine restarted: remove_orphans() catches the rest

    # -- transfer -----------------------------------------------------------------------------

    def _space_full(self, container_id: str) -> bool | None:
        """``_finish``'s measure, read from the host through ``/proc/<init>/root`` (the
        container's own mounts; the run cannot move them: the root is read-only and they are
        mount points). None when this process cannot see them (a worker in a container)."""
        from docker.errors import DockerException

        try:
            pid = int(self._client.api.inspect_container(container_id)["State"].get("Pid") or 0)
            if pid <= 0:
                return None
            figures = [os.statvfs(f"/proc/{pid}/root{m}") for m in _SCRATCH_MOUNTS]
        except (DockerException, OSError):
            return None
        return any(f.f_bfree == 0 or f.f_ffree == 0 for f in figures)

    def _finish(self, container_id: str, workdir: Path, *, copy_back: bool) -> bool:
        """After the program ended: measure ``/work``, ``/tmp`` and ``/dev/shm`` once more and,
        with ``copy_back``, stream ``/work`` back into ``workdir`` (one exec for both). Returns
        whether a run left one of them full (no free block or inode): the kernel refused its
        writes past the cap, and a program that ignored ENOSPC and exited 0 is caught here, as
        the bubblewrap backend's measure at exit does. The figures come from this exec's own
        stderr, which nothing of the run can write to."""
        code, data, err, _ = self._exec(
            container_id,
            ["sh", "-c", _FINISH_SCRIPT, "finish", "keep" if copy_back else "drop"],
            stdin=b"",
            timeout=60,
            cap=TRANSFER_CAP,
        )
        figures = err.split()
        full = len(figures) == 6 and all(f.isdigit() for f in figures)
        if not full:
            log.warning("could not measure a run's scratch space at exit: %r", err[-300:])
        if copy_back and code == 0:  # else the run left /work unreadable: keep the host copy
            _untar_into(data, workdir)
        return full and any(int(f) == 0 for f in figures)

    # -- exec ---------------------------------------------------------------------------------

    def _exec_run(self, container_id: str, spec: RunSpec, work_tar: bytes) -> RunResult:
        limits = spec.limits
        cpu = max(1, int(limits.cpu_seconds + 0.999))
        argv = [_translate(a) if i == 0 else a for i, a in enumerate(spec.argv)]
        # One exec per run (each costs ~60 ms here): a fixed script unpacks the workdir from
        # the first bytes of stdin, says so on stderr, then becomes the program under prlimit
        # with the rest of stdin. argv travels as positional parameters, never as shell text.
        wrapped = [
            "sh",
            "-c",
            _STAGE_SCRIPT,
            "stage",
            str(len(work_tar)),
            f"--cpu={cpu}:{cpu + 1}",
            f"--fsize={limits.file_size_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
            "--",
            *argv,
        ]
        before = _cgroup_counters(container_id)
        started = time.monotonic()
        try:
            code, out, err, killed = self._exec(
                container_id,
                wrapped,
                stdin=work_tar + spec.stdin,
                timeout=_STAGE_SECONDS,
                cap=limits.output_bytes + len(_STAGED),
                env=_environment(spec),
                cwd=spec.cwd,
                then=(_STAGED, limits.wall_seconds),
            )
        except SandboxError as exc:
            # The engine refused the exec (e.g. the container is not running): nothing ran.
            # Only this exec's refusal may be retried; one after the program (copying /work
            # back, measuring it) must not run the program again.
            raise _NotStaged(str(exc)) from exc
        if not err.startswith(_STAGED):
            # The marker comes before the program runs, so only a staging failure lacks it.
            if killed:  # killed with its container before the program could start
                raise _NotStaged("the sandbox container did not start the program in time")
            if not err:  # not even tar's complaint: the exec never ran the staging script
                raise _NotStaged("the sandbox container ended before the run was staged")
            raise SandboxError(f"staging the workdir failed: {err[-500:]!r}")
        err = err[len(_STAGED) :]
        wall = time.monotonic() - started
        after = _cgroup_counters(container_id)
        cpu_used = max(0.0, after["cpu"] - before["cpu"])
        rss_kb = int(after["rss"] // 1024)
        oom = after["oom"] > before["oom"]
        sig: int | None = None
        exit_code: int | None = code
        if killed:
            sig, exit_code = signal.SIGKILL, None
        elif code is not None and code > 128 and code - 128 < signal.NSIG:
            sig, exit_code = code - 128, None
        if code == 127 and b"prlimit: failed to execute" in err:
            raise SandboxError(f"the sandbox image cannot run {argv[0]!r}")
        killed_for = {"wall": "wall", "output": "output"}.get(killed, "")
        verdict, message = classify(
            limits,
            killed_for,
            killed == "output",
            exit_code,
            sig,
            cpu_used,
            rss_kb if spec.needs.trust_rss else 0,
            err,
            memory_exceeded=oom,
        )
        return RunResult(
            verdict=verdict,
            exit_code=exit_code,
            signal=sig,
            stdout=out[: limits.output_bytes],
            stderr=err[: limits.output_bytes],
            wall_seconds=round(wall, 4),
            cpu_seconds=round(cpu_used, 4),
            max_rss_kb=rss_kb,
            stdout_truncated=len(out) > limits.output_bytes,
            stderr_truncated=len(err) > limits.output_bytes,
            message=message,
        )

    def _exec(
        self,
        container_id: str,
        argv: list[str],
        *,
        stdin: bytes,
        timeout: float,
        cap: int,
        env: dict[str, str] | None = None,
        cwd: str = "/work",
        then: tuple[bytes, float] | None = None,
    ) -> tuple[int | None, bytes, bytes, str]:
        """Exec ``argv``; return (exit code, stdout, stderr, killed-for: "" | wall | output).

        ``then=(marker, seconds)``: once stderr starts with ``marker`` the deadline becomes
        ``seconds`` from that moment (the program's own wall clock starts after staging).
        """
        from docker.errors import DockerException

        api = self._client.api
        try:
            exec_id = api.exec_create(
                container_id,
                argv,
                stdin=True,
                user=SANDBOX_UID,
                stdout=True,
                stderr=True,
                environment=env or {},
                workdir=cwd,
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except DockerException as exc:  # nothing ran: e.g. the container is not running
            raise SandboxError(f"docker exec failed: {exc}") from exc
        raw: socket.socket = getattr(sock, "_sock", sock)
        ended = "error"
        out, err = bytearray(), bytearray()
        try:
            ended = _pump(
                raw,
                stdin,
                out,
                err,
                cap,
                time.monotonic() + timeout,
                then,
                finished=_ExitWatch(api, exec_id),
            )
        finally:
            # Close our end first: the engine does not finish a kill while it still has
            # output to hand us. The container is single-use: killing it is how the whole
            # tree dies (a daemon holding the streams open included).
            raw.close()
            if ended != "eof":
                self._kill(container_id)
        killed = ended if ended in ("wall", "output") else ""
        if killed:
            return None, bytes(out), bytes(err), killed
        for _ in range(50):  # the exit code lands a moment after the stream closes
            info = api.exec_inspect(exec_id)
            if not info.get("Running"):
                return info.get("ExitCode"), bytes(out), bytes(err), ""
            time.sleep(0.01)
        return info.get("ExitCode"), bytes(out), bytes(err), ""


_SCRATCH_MOUNTS = ("/work", "/tmp", "/dev/shm")  # noqa: S108 (inside the container)
# Free blocks and inodes of the run's three tmpfs (stderr), then /work as a tar (stdout).
_FINISH_SCRIPT = (
    'stat -f -c "%f %d" /work /tmp /dev/shm >&2; [ "$1" = keep ] || exit 0; '
    "exec tar -c -C /work ."
)


def _disk_exceeded(result: RunResult, spec: RunSpec) -> RunResult:
    """The verdict of a run that filled its space, whatever it did next (as bubblewrap's)."""
    if result.verdict == Verdict.OUTPUT_LIMIT:
        return result
    verdict, message = classify(spec.limits, "disk", False, result.exit_code, result.signal,
                                result.cpu_seconds, result.max_rss_kb, result.stderr)
    return replace(result, verdict=verdict, message=message)


_STAGED = b"\x00grader-staged\n"
_EXIT_POLL_S = 0.1
_STAGE_SECONDS = 10.0  # unpacking the workdir, on top of the program's wall limit (a loaded
# engine has taken more than 5 s to start an exec)
_STAGE_SCRIPT = (
    'head -c "$1" | tar -x -m --no-same-owner -C /work -f - || exit 125; '
    "printf '\\000grader-staged\\n' >&2; shift; exec prlimit \"$@\""
)


def _tar_of(workdir: Path, covered: list[PurePosixPath]) -> bytes:
    """Folders and regular files of ``workdir`` (any depth; links, FIFOs, sockets left out)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in fstree.walk(workdir):
            kind = entry.kind
            if kind not in ("dir", "file") or any(
                PurePosixPath(entry.path).is_relative_to(c) for c in covered
            ):
                continue
            info = tarfile.TarInfo(entry.path)
            info.mode = stat.S_IMODE(entry.info.st_mode)
            info.mtime = int(entry.info.st_mtime)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=entry.dir_fd)
            with os.fdopen(fd, "rb") as fh:
                info.size = os.fstat(fd).st_size
                tar.addfile(info, fh)
    return buf.getvalue()


def _untar_into(data: bytes, workdir: Path) -> None:
    """Replace ``workdir``'s contents with the folders and regular files of an archive that
    came out of an untrusted container: no links, no special files, no path outside, any depth
    (``sandbox.fstree``), owned like ``workdir``."""
    owner = workdir.stat()
    fstree.clear_tree(workdir)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar, fstree.TreeWriter(
        workdir, uid=owner.st_uid, gid=owner.st_gid
    ) as writer:
        for member in tar:
            parts = tuple(p for p in PurePosixPath(member.name).parts if p != ".")
            if not parts or member.name.startswith("/") or ".." in parts:
                continue
            mode = member.mode & 0o755  # like tarfile's "data" filter: no group/other write
            try:
                if member.isdir():
                    writer.mkdir(parts, mode)
                elif member.isfile():
                    source = tar.extractfile(member)
                    if source is not None:
                        writer.file(parts, source, mode, int(member.mtime) * 10**9, member.size)
            except (FileExistsError, NotADirectoryError):
                continue  # a name listed twice, or a file where a folder should be


# Runs inside the container as the sandbox uid, before the program: receive the fds the host
# hands over, move them to the numbers the spec asked for, exec the program.
_FD_SHIM = """
import array, fcntl, os, socket, sys
path, targets, argv = sys.argv[1], [int(n) for n in sys.argv[2].split(",")], sys.argv[3:]
sock = socket.socket(socket.AF_UNIX)
sock.connect(path)
fds = array.array("i")
_, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(len(targets) * fds.itemsize))
for level, kind, data in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
sock.close()
if len(fds) != len(targets):
    sys.exit("grader fd handoff: expected %d fds, got %d" % (len(targets), len(fds)))
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 128) for fd in fds]  # below --nofile=256
for fd in fds:
    os.close(fd)
for fd, target in zip(high, targets):
    os.dup2(fd, target)
    os.close(fd)
os.execvp(argv[0], argv)
"""
_FD_MOUNT = "/run/grader-fds"


class _FdHandoff:
    """Hand ``fds`` to the program in a container: a listening unix socket in a fresh host
    folder bound into the container, a thread that sends the fds to the first (only) peer."""

    def __init__(self, fds: tuple[int, ...]) -> None:
        self._fds = fds
        self._dir = Path(tempfile.mkdtemp(prefix="grader-fds-"))
        os.chmod(self._dir, 0o711)  # noqa: S103 - traversable, not listable
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(self._dir / "fds.sock"))
        os.chmod(self._dir / "fds.sock", 0o777)  # noqa: S103 - the sandbox uid connects
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True, name="docker-fds")

    def __enter__(self) -> _FdHandoff:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()  # wakes the thread if nobody connected
        self._thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def wrap(self, spec: RunSpec) -> RunSpec:
        argv = [
            "/usr/bin/python3", "-I", "-S", "-c", _FD_SHIM, f"{_FD_MOUNT}/fds.sock",
            ",".join(map(str, self._fds)), *[_translate(spec.argv[0]), *spec.argv[1:]],
        ]
        binds = {**spec.rw_binds, str(self._dir): _FD_MOUNT}
        return replace(spec, argv=argv, rw_binds=binds, pass_fds=())

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", self._fds).tobytes())])


class _ExitWatch:
    """Has the exec'd program itself exited? Its host pid says so at once; the engine only
    once every holder of its output streams is gone (a daemon may hold them for ever)."""

    def __init__(self, api: Any, exec_id: str) -> None:
        self._api = api
        self._exec_id = exec_id
        self._pid = 0
        self._visible = True

    def __call__(self) -> bool:
        if not self._pid and self._visible:
            self._pid = int(self._api.exec_inspect(self._exec_id).get("Pid") or 0)
            # A worker inside a container cannot see the host's pids: ask the engine then.
            self._visible = bool(self._pid) and os.path.exists(f"/proc/{self._pid}")
        if self._visible:
            try:
                stat = Path(f"/proc/{self._pid}/stat").read_text()
            except OSError:
                return True
            return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")
        return not self._api.exec_inspect(self._exec_id).get("Running")


def _pump(
    raw: socket.socket,
    stdin: bytes,
    out: bytearray,
    err: bytearray,
    cap: int,
    deadline: float,
    then: tuple[bytes, float] | None = None,
    finished: Callable[[], bool] | None = None,
) -> str:
    """Feed stdin and demultiplex Docker's framed stdout/stderr until EOF, deadline or cap.

    Returns why it stopped: "eof", "exited" (see below), "wall" or "output".

    A program that exits while something it started (a daemon) keeps the streams open is done
    all the same: ``finished`` is asked every ``_EXIT_POLL_S`` and the container is thrown away
    with whatever is left in it.
    """
    raw.setblocking(False)
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    events = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0)
    sel.register(raw, events)
    if not pending:
        raw.shutdown(socket.SHUT_WR)
    buf = bytearray()
    next_poll = time.monotonic() + _EXIT_POLL_S
    exited = False
    try:
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return "wall"
            if finished is not None and now >= next_poll:
                if exited:  # one more round after the exit to drain what was in flight
                    return "exited"
                exited = finished()
                next_poll = now + _EXIT_POLL_S
            for _, mask in sel.select(min(left, _EXIT_POLL_S)):
                if mask & selectors.EVENT_WRITE and pending:
                    try:
                        sent = raw.send(pending[:65536])
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:  # the program closed stdin early: fine
                        pending = pending[len(pending) :]
                        sent = 0
                    pending = pending[sent:]
                    if not pending:
                        sel.modify(raw, selectors.EVENT_READ)
                        try:
                            raw.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                if mask & selectors.EVENT_READ:
                    try:
                        chunk = raw.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    if not chunk:
                        return "eof"
                    buf += chunk
                    while len(buf) >= 8:
                        stream, size = buf[0], struct.unpack(">I", buf[4:8])[0]
                        if len(buf) < 8 + size:
                            break
                        target = out if stream == 1 else err
                        target += buf[8 : 8 + size]
                        del buf[: 8 + size]
                        if then is not None and err.startswith(then[0]):
                            deadline, then = time.monotonic() + then[1], None
                        if len(target) > cap:
                            return "output"
    finally:
        sel.close()


def _translate(arg0: str) -> str:
    """The grader's own interpreter path means 'python' inside the image."""
    import sys

    if arg0 == sys.executable or os.path.basename(arg0).startswith("python"):
        return "/usr/bin/python3"
    return arg0


def _environment(spec: RunSpec) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",  # noqa: S108 - a sandbox path
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(spec.needs.env)
    env.update(spec.env)
    return env


def _cgroup_counters(container_id: str) -> dict[str, float]:
    """CPU seconds, peak memory bytes and OOM kills of the container (cgroup v1, else zeros)."""
    counters = {"cpu": 0.0, "rss": 0.0, "oom": 0.0}
    for sub in ("cpuacct", "cpu,cpuacct"):
        path = CGROUP_ROOT / sub / "docker" / container_id / "cpuacct.usage"
        if path.exists():
            counters["cpu"] = int(path.read_text()) / 1e9
            break
    memory = CGROUP_ROOT / "memory" / "docker" / container_id
    try:
        counters["rss"] = float(int((memory / "memory.max_usage_in_bytes").read_text()))
        for line in (memory / "memory.oom_control").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                counters["oom"] = float(value)
    except (OSError, ValueError):
        pass
    return counters


def _kill_pid_namespace(init_pid: int) -> bool:
    """SIGKILL every process in the pid namespace of host pid ``init_pid`` but init itself.

    False when this process cannot see that namespace (a worker running in a container).
    """
    try:
        target = os.readlink(f"/proc/{init_pid}/ns/pid")
    except OSError:
        return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == init_pid:
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == target:
                os.kill(int(entry), signal.SIGKILL)
        except OSError:
            continue
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["DockerBackend"]
