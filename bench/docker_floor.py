"""What a container per submission costs the Docker engine before anything runs in it (a figure,
never pass/fail).

    .venv/bin/python bench/docker_floor.py [--rounds 10] [--image grader-sandbox:latest]

Interleaved, so that machine load hits each alike, it measures the machine's CPU (all of it:
the engine, containerd, the shim and runc are other processes) for

- **container**: start and remove one container with the Docker backend's own settings
  (``DockerBackend._start``: read-only root, three tmpfs, no network, limits, docker-init);
- **exec**: one ``docker exec`` of ``true`` in a running container, what every run cost before a
  session's runner (``sandbox/backends/docker_runner.py``) served them all with one.

It prints both and the ceiling they set: a submission that needs one container of its own (the
design: a container never serves two submissions) can never cost less than the container, so
``60 / (container seconds)`` graded/min/core is the most any grading could reach on this
machine, before the runs, the upload, the queue and the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.backends.docker import IMAGE, DockerBackend  # noqa: E402
from sandbox.backends.docker_pool import pool_key  # noqa: E402
from sandbox.types import Limits, RunSpec  # noqa: E402


def machine_cpu() -> float:
    """CPU seconds the whole machine has used (every process, the kernel's work included)."""
    with open("/proc/stat") as fh:  # noqa: PTH123
        fields = [int(v) for v in fh.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--image", default=IMAGE)
    args = parser.parse_args()
    backend = DockerBackend(image=args.image, pool_size=0)
    api = backend._client.api
    key = pool_key(RunSpec(argv=["true"], workdir=Path(tempfile.gettempdir()),
                           limits=Limits(cpu_seconds=2, wall_seconds=10, memory_mb=256)))
    keeper = backend._start(key, None)
    rows: dict[str, list[float]] = {"container": [], "exec": []}
    try:
        for _ in range(args.rounds):
            before = machine_cpu()
            warm = backend._start(key, None)
            backend._discard(warm.id)
            rows["container"].append(machine_cpu() - before)
            before = machine_cpu()
            exec_id = api.exec_create(keeper.id, ["true"], user="65534:65534")["Id"]
            api.exec_start(exec_id)
            while api.exec_inspect(exec_id).get("Running"):
                time.sleep(0.005)
            rows["exec"].append(machine_cpu() - before)
    finally:
        backend._discard(keeper.id)
        backend.close()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"machine CPU per operation, median of {args.rounds} rounds, {os.cpu_count()} cores:")
    print(f"  container start + removal  {med['container'] * 1000:6.0f} ms")
    print(f"  docker exec (true)         {med['exec'] * 1000:6.0f} ms")
    print(f"a container per submission: at most {60 / med['container']:.0f} graded/min/core "
          "before any run, upload, queue or database work")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
