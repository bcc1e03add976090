"""The Docker backend's warm containers: started ahead of time per set of container-level
limits (``PoolKey``), taken one per run, refilled by a background thread, removed after their
single use; and the sweep of containers a dead worker left behind (see "Theory of operation"
in ``sandbox.backends.docker``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.types import RunSpec, SandboxError

EXTRA_PIDS = 4  # docker-init, sleep, the prlimit/tar execs (pids_limit = max_processes + this)

MAX_POOL_KEYS = 6  # distinct limit sets kept warm (run, build, JVM run ... of recent packages)
OWNER = f"{socket.gethostname()}:{os.getpid()}"
LABEL = "grader.sandbox.owner"


@dataclass(frozen=True)
class PoolKey:
    memory_mb: int
    max_processes: int
    tmp_size_mb: int
    network: bool


@dataclass
class Warm:
    id: str
    key: PoolKey  # the limits it was started with
    # Its memory, pids and scratch limits can be set from the host: a session may run specs of
    # other limits (same network) in it (``docker_session``). None: not looked at yet.
    settable: bool | None = None


def pool_key(spec: RunSpec) -> PoolKey:
    limits = spec.limits
    # The runtime's memory beyond memory_mb (a JVM's beyond its -Xmx heap). Its address space
    # needs no room here (no RLIMIT_AS), and the image has its own /etc (needs.host_paths).
    extra = spec.needs.extra_memory_mb
    return PoolKey(
        limits.memory_mb + extra, limits.max_processes, limits.tmp_size_mb, limits.network
    )


class WarmPool:
    """The pool half of ``DockerBackend`` (a mixin: the backend's constructor sets these up)."""

    _client: Any
    _image: str
    _pool_size: int
    _pools: dict[PoolKey, deque[Warm]]
    _lock: threading.Lock
    _wanted: threading.Condition
    _closed: bool

    def remove_orphans(self) -> int:
        """Remove sandbox containers whose owning process on this host is gone."""
        removed = 0
        host = socket.gethostname()
        for container in self._client.containers.list(all=True, filters={"label": LABEL}):
            owner_host, _, pid = container.labels.get(LABEL, "").partition(":")
            if owner_host == host and pid.isdigit() and not alive(int(pid)):
                self._discard(container.id)
                removed += 1
        return removed

    def _take(self, key: PoolKey) -> Warm | None:
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

    def _short_key(self) -> PoolKey | None:
        for key, pool in self._pools.items():
            if len(pool) < self._pool_size:
                return key
        return None

    def _start(self, key: PoolKey, spec: RunSpec | None) -> Warm:
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
                pids_limit=key.max_processes + EXTRA_PIDS,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                ulimits=[Ulimit(name="core", soft=0, hard=0)],
                labels={LABEL: OWNER},
                environment={},
            )
        except DockerException as exc:
            raise SandboxError(f"could not start a sandbox container: {exc}") from exc
        return Warm(container.id, key)

    def _discard(self, container_id: str) -> None:
        from docker.errors import DockerException

        try:
            self._client.api.remove_container(container_id, force=True)
        except DockerException:
            pass  # already gone, or the engine restarted: remove_orphans() catches the rest


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["EXTRA_PIDS", "LABEL", "MAX_POOL_KEYS", "OWNER", "PoolKey", "Warm", "WarmPool",
           "pool_key"]
