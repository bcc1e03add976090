"""Sandbox figures, printed in one run (never pass/fail; the machines are noisy).

    .venv/bin/python bench/sandbox.py [--runs 40] [--seconds 15] [--no-docker]

For the same trivial Python program (``python -c pass``, the grader's interpreter) it prints:
- the median wall time bare, under bubblewrap, under Docker from a cold start and from the warm
  pool, with the per-run overhead against bare (and the ratio);
- sandboxed Python runs per second per core: as many runs as the machine's cores in parallel,
  for ``--seconds``, divided by the core count (Docker warm: pool refills included).
Targets (issue 3): bubblewrap overhead <= 30 ms; Docker warm <= 120 ms; >= 4.5 runs/s/core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Backend, Limits, RunSpec, SandboxError  # noqa: E402

ARGV = [sys.executable, "-c", "pass"]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run_ok(backend: Backend, workdir: Path) -> None:
    result = backend.run(RunSpec(argv=ARGV, workdir=workdir, limits=Limits(), discard_workdir=True))
    if not result.ok:
        raise SystemExit(f"{backend.name}: {result.verdict} {result.message} {result.stderr!r}")


def throughput(backend: Backend, seconds: float) -> float:
    """Runs per second per core with one runner thread per core."""
    cores = os.cpu_count() or 1
    done = [0] * cores
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            while time.monotonic() < stop:
                run_ok(backend, Path(tmp))
                done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(cores)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started) / cores


def wait_pool_full(backend: object) -> None:
    pools = getattr(backend, "_pools", {})
    size = getattr(backend, "_pool_size", 0)
    for _ in range(200):
        if pools and all(len(p) >= size for p in pools.values()):
            return
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bare = median_ms(lambda: subprocess.run(ARGV, check=True), args.runs)
        rows.append(("bare", bare))

        from sandbox.backends.bwrap import BubblewrapBackend

        bwrap = BubblewrapBackend()
        run_ok(bwrap, work)
        rows.append(("bubblewrap", median_ms(lambda: run_ok(bwrap, work), args.runs)))
        bwrap_rate = throughput(bwrap, args.seconds)

        docker_rates: dict[str, float] = {}
        if not args.no_docker:
            try:
                from sandbox.backends.docker import DockerBackend

                cold = DockerBackend(pool_size=0)
                warm = DockerBackend(pool_size=2)
            except SandboxError as exc:
                print(f"docker: skipped ({exc})")
            else:
                run_ok(cold, work)
                rows.append(("docker cold", median_ms(lambda: run_ok(cold, work), args.runs // 4)))
                cold.close()

                def warm_run() -> None:
                    wait_pool_full(warm)  # latency of a run that finds a warm container
                    started = time.perf_counter()
                    run_ok(warm, work)
                    warm_times.append(time.perf_counter() - started)

                warm_times: list[float] = []
                run_ok(warm, work)
                for _ in range(args.runs // 2):
                    warm_run()
                rows.append(("docker warm pool", statistics.median(warm_times) * 1000))
                docker_rates["docker warm pool"] = throughput(warm, args.seconds)
                warm.close()

    print(f"python -c pass, median of {args.runs} runs, {cores} cores")
    print(f"{'':18} {'wall ms':>9} {'overhead ms':>12} {'ratio':>7}")
    for name, ms in rows:
        print(f"{name:18} {ms:9.1f} {ms - bare:12.1f} {ms / bare:7.2f}")
    print(f"\nsandboxed python runs/s/core ({cores} parallel runners, {args.seconds:g} s)")
    print(f"{'bubblewrap':18} {bwrap_rate:9.2f}")
    for name, rate in docker_rates.items():
        print(f"{name:18} {rate:9.2f}")


if __name__ == "__main__":
    main()
