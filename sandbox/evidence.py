"""Feedback evidence from the sandbox: traced runs and re-runs of chosen tests. Never a score.

Two jobs, both for Python submissions and both inside the same sandbox backend as grading:

* ``collect_traces``: run every traced test (I/O and pytest: ``TestType.traced``) again with a
  line tracer in the student process (``sys.settrace``), giving the lines of the submission
  file each test executes and, optionally, the values of some names the first times a chosen
  line runs. It is a second run on purpose: the score always comes from the untraced run, so
  the tracer's overhead can never turn a correct, fast-enough program into a timeout.
* ``rerun``: run chosen tests (failing ones first) against many variants of the submission —
  candidate repairs — and say, per variant and test, whether it passed.

How a type traces and re-runs its tests is the type's (``sandbox.testtypes``: ``trace``,
``rerun``); this module only hands each type its tests.

Everything the student side writes is untrusted: capped, validated, and used only to point at
lines and to check repairs.
"""

from __future__ import annotations

from sandbox import fstree
from sandbox.package import AssignmentPackage
from sandbox.testtypes import TEST_TYPES, Context
from sandbox.testtypes.base import Probe, TestKey, Trace, Variants, write_files
from sandbox.types import Backend, Limits


def match_traces(results: list[tuple[str, str]], traces: list[tuple[TestKey, Trace | None]]
                 ) -> list[tuple[TestKey | None, Trace | None]]:
    """Pair graded results ((kind, name) in grading order) with traced runs of the same kind and
    name, each traced run used once (names may repeat across test files); (None, None) for a
    result no traced run explains (gradescope, static rules, a collection error)."""
    pending = list(traces)
    paired: list[tuple[TestKey | None, Trace | None]] = []
    for kind, name in results:
        match = next((i for i, (k, _) in enumerate(pending) if k.kind == kind and k.name == name),
                     None)
        paired.append(pending.pop(match) if match is not None else (None, None))
    return paired


def collect_traces(backend: Backend, package: AssignmentPackage, files: dict[str, bytes], *,
                   probe_line: int = 0, probe_names: tuple[str, ...] = (),
                   only: set[TestKey] | None = None) -> list[tuple[TestKey, Trace | None]]:
    """Traced runs of the package's traced tests (Python only), in grading's order, each with
    its trace (None when the tracer left nothing readable). ``only`` restricts the runs to
    those tests (a pytest file runs when one of its tests is wanted)."""
    if package.language != "python" or package.submission not in files:
        return []
    found: list[tuple[TestKey, Trace | None]] = []
    probe = Probe(probe_line, probe_names)
    with fstree.temporary_folder("evidence-") as root:
        # Each run copies this folder (Python has no build: the files as uploaded).
        ctx = Context(package, files, backend, write_files(files, root / "files"), root)
        for index, spec in enumerate(package.tests):
            found += TEST_TYPES[spec.type].trace(ctx, index, spec, probe, only)
    return found


def rerun(backend: Backend, package: AssignmentPackage, variants: list[dict[str, bytes]],
          tests: list[TestKey], *, deadline: float | None = None,
          limits: Limits | None = None, parallel: int = 1) -> list[dict[TestKey, bool]]:
    """Whether each test passes for each variant (Python submissions: no build step).

    Each test type runs its own tests (``TestType.rerun``): I/O tests one sandbox run each
    (``parallel`` at a time), pytest tests of every variant one trusted run per test file.
    ``limits`` (default: the package's) bound every student run: feedback screens candidates
    under tighter ones, so that a candidate that still loops costs a second, not the package's
    whole wall clock. Past ``deadline`` (``time.monotonic()``), the remaining I/O runs are
    skipped and their tests left out of the variant's dict (unknown, not failed).
    """
    results: list[dict[TestKey, bool]] = [{} for _ in variants]
    if not variants or not tests:
        return results
    with fstree.temporary_folder("rerun-") as root:
        job = Variants(backend, package, [write_files(files, root / f"v{i}")
                                          for i, files in enumerate(variants)],
                       root, limits or package.limits, deadline, parallel)
        for kind, test_type in TEST_TYPES.items():
            keys = [key for key in tests if key.kind == kind]
            if keys:
                for (i, key), passed in test_type.rerun(job, keys).items():
                    results[i][key] = passed
    return results


__all__ = ["TestKey", "Trace", "collect_traces", "match_traces", "rerun"]
