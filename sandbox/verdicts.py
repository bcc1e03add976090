"""One verdict policy for every backend: raw facts about a finished run → verdict + sentence."""

from __future__ import annotations

import signal

from sandbox.types import Limits, Verdict

_MEMORY_MARKERS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"java.lang.OutOfMemoryError",
    b"Cannot allocate memory",
    b"out of memory",
)
# Hitting the process/thread limit: glibc, CPython and the JVM say so in these words.
_PROCESS_MARKERS = (
    b"unable to create native thread",
    b"can't start new thread",
    b"Resource temporarily unavailable",
)


def classify(
    limits: Limits,
    killed_for: str,
    output_exceeded: bool,
    code: int | None,
    sig: int | None,
    cpu: float,
    rss: int,
    stderr: bytes,
    *,
    memory_exceeded: bool = False,
) -> tuple[Verdict, str]:
    """``memory_exceeded``: the kernel OOM-killed a process of the run inside its memory limit
    (a cgroup's own counter): MEMORY unless we had stopped the run for another limit first."""
    if killed_for == "output" or output_exceeded:
        return Verdict.OUTPUT_LIMIT, f"Your program printed more than {limits.output_bytes} bytes"
    if killed_for == "disk":
        return (
            Verdict.OUTPUT_LIMIT,
            f"Your program wrote more than {limits.tmp_size_mb} MB of files",
        )
    if killed_for == "wall":
        return Verdict.TIMEOUT, f"Timed out after {limits.wall_seconds:g} s"
    if memory_exceeded:
        return Verdict.MEMORY, f"Your program used more than {limits.memory_mb} MB of memory"
    if cpu > limits.cpu_seconds or sig == signal.SIGXCPU:
        return Verdict.TIMEOUT, f"Your program used more than {limits.cpu_seconds:g} s of CPU time"
    if code == 0:
        return Verdict.PASSED, ""
    tail = stderr[-4096:]
    if sig == signal.SIGXFSZ or b"File too large" in tail:
        return (
            Verdict.OUTPUT_LIMIT,
            f"Your program wrote a file larger than {limits.file_size_mb} MB",
        )
    if b"No space left on device" in tail:
        return (
            Verdict.OUTPUT_LIMIT,
            f"Your program filled its {limits.tmp_size_mb} MB of disk space",
        )
    if any(m in tail for m in _PROCESS_MARKERS):
        return Verdict.RUNTIME_ERROR, (
            f"Your program tried to start more than {limits.max_processes} processes or threads"
        )
    if any(m in tail for m in _MEMORY_MARKERS) or rss >= limits.memory_mb * 1024 * 0.9:
        return Verdict.MEMORY, f"Your program used more than {limits.memory_mb} MB of memory"
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        what = {
            "SIGSEGV": "a segmentation fault",
            "SIGABRT": "an abort",
            "SIGFPE": "an arithmetic error",
        }
        return Verdict.RUNTIME_ERROR, f"Your program crashed ({what.get(name, name)})"
    return Verdict.RUNTIME_ERROR, f"Your program exited with code {code}"
