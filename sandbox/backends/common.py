"""What every backend does the same way: the child's environment, reading an exit status,
what the runtime's needs mean for the verdict, and capping a captured stream.

Kept here so bubblewrap and Docker cannot drift apart on them (a verdict is the student's
result: the same program must get the same one under either backend).
"""

from __future__ import annotations

import signal

from sandbox.types import RunSpec

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"


def child_environment(spec: RunSpec) -> dict[str, str]:
    """The program's whole environment: nothing of the host's, then what its runtime wants
    (``spec.needs.env``), then the spec's own ``env``, which wins."""
    env = {
        "PATH": SANDBOX_PATH,
        "HOME": "/tmp",  # noqa: S108 - the sandbox's private /tmp
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(spec.needs.env)
    env.update(spec.env)
    return env


def split_exit_status(raw: int | None) -> tuple[int | None, int | None]:
    """(exit code, signal) from a status a shell or bwrap reports: 128+n is death by signal n."""
    if raw is not None and raw > 128 and raw - 128 < signal.NSIG:
        return None, raw - 128
    return raw, None


def rss_for_verdict(spec: RunSpec, rss_kb: int) -> int:
    """The peak RSS the verdict may judge: 0 for a runtime that bounds its own memory (a JVM's
    heap is -Xmx, so its RSS near the limit says nothing; only its out-of-memory error does)."""
    return rss_kb if spec.needs.trust_rss else 0


def capped(data: bytes, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of a captured stream, and whether there was more."""
    return data[:cap], len(data) > cap


__all__ = ["SANDBOX_PATH", "capped", "child_environment", "rss_for_verdict", "split_exit_status"]
