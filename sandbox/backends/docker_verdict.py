"""The Docker backend's verdicts: a finished exec's figures into a ``RunResult`` by the shared
policy (``sandbox.verdicts.classify``), and the verdict of a run that filled its space.
"""

from __future__ import annotations

import signal
from dataclasses import replace

from sandbox.backends.common import capped, rss_for_verdict, split_exit_status
from sandbox.types import RunResult, RunSpec, Verdict
from sandbox.verdicts import classify


def exec_result(
    spec: RunSpec,
    code: int | None,
    out: bytes,
    err: bytes,
    killed: str,
    before: dict[str, float],
    after: dict[str, float],
    wall: float,
) -> RunResult:
    """The run's result from its exec: exit status (128+n is signal n), ``killed`` ("", "wall",
    "output"), the cgroup counters ``before`` and ``after`` it, stdout and stderr (the staging
    marker already cut off) capped at ``output_bytes``."""
    limits = spec.limits
    cpu_used = max(0.0, after["cpu"] - before["cpu"])
    rss_kb = int(after["rss"] // 1024)
    oom = after["oom"] > before["oom"]
    sig: int | None = None
    exit_code: int | None = code
    if killed:
        sig, exit_code = signal.SIGKILL, None
    else:
        exit_code, sig = split_exit_status(code)
    killed_for = {"wall": "wall", "output": "output"}.get(killed, "")
    verdict, message = classify(
        limits,
        killed_for,
        killed == "output",
        exit_code,
        sig,
        cpu_used,
        rss_for_verdict(spec, rss_kb),
        err,
        memory_exceeded=oom,
    )
    stdout, stdout_truncated = capped(out, limits.output_bytes)
    stderr, stderr_truncated = capped(err, limits.output_bytes)
    return RunResult(
        verdict=verdict,
        exit_code=exit_code,
        signal=sig,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=round(wall, 4),
        cpu_seconds=round(cpu_used, 4),
        max_rss_kb=rss_kb,
        stdout_truncated=stdout_truncated,
        stderr_truncated=stderr_truncated,
        message=message,
    )


def disk_exceeded_result(result: RunResult, spec: RunSpec) -> RunResult:
    """The verdict of a run that filled its space, whatever it did next (as bubblewrap's)."""
    if result.verdict == Verdict.OUTPUT_LIMIT:
        return result
    verdict, message = classify(spec.limits, "disk", False, result.exit_code, result.signal,
                                result.cpu_seconds, result.max_rss_kb, result.stderr)
    return replace(result, verdict=verdict, message=message)


__all__ = ["disk_exceeded_result", "exec_result"]
