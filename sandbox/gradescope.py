"""Run an unchanged Gradescope autograder (``type = "gradescope"`` tests) inside the sandbox.

Theory of operation
-------------------
``setup.sh`` (when present and ``setup`` is not false) is Gradescope's image build: it runs once
per version of the autograder, with the network, and what it leaves under ``/autograder`` is
cached and reused (``sandbox.gradescope_setup``). A broken one gives one SANDBOX_ERROR result
with its output ("could not be graded", a package fault), never a crash and never points.

For each grading one host folder holds Gradescope's layout: ``source/`` (a copy of the built
``source/``, or of the package's autograder folder without setup.sh), ``submission/`` (the
student's files exactly as uploaded: our own build step neither runs for nor adds files to
this test type), ``results/`` (created empty), ``run_autograder`` (copied from ``source/``) and
``submission_metadata.json`` (Gradescope's shape: what the grader knows, null for the rest). The
folder is bound writable at ``/autograder`` (on bubblewrap as root it is copied onto the run's
capped scratch tmpfs like any writable bind; the run's ``/work`` is an empty folder of its own),
opened to the sandbox's uid; the setup's other top-level entries (``.local`` from ``pip3
install``, a venv...) are bound read-only inside it. The cwd is ``/autograder``, as Gradescope
documents; the network is off.

Then ``run_autograder`` runs once (directly when it starts with ``#!``, else with bash). After
the run has ended, every process of it dead, ``results/results.json`` is read on the host
without trusting it: not a symlink (``O_NOFOLLOW`` on the folder and the file), a regular file
of at most 1 MB, strict UTF-8 JSON (no NaN/Infinity, no duplicate keys), Gradescope's schema
(keys it does not define are ignored, and the teacher is told), finite numbers, names and
outputs trimmed. The score is Gradescope's: the top-level ``score`` when given, else the sum of
the tests' scores; out of ``points`` when the package sets it (a fixed maximum, as an
assignment's total on Gradescope), else out of the tests' ``max_score`` sum; never below 0 nor
above that maximum (extra credit is cut, with a note). Any doubt about the file gives one
SANDBOX_ERROR result ("could not be graded", a package fault), never points. In this trust
model student code can also remove or spoil the file, which then reads as the package's fault
too: the submission gets no score and the teacher sees why.

Trust model (read this before using it)
----------------------------------------
In Gradescope's model the autograder and the student's code run in the *same* sandbox, as the
same user: student code can write ``results.json`` itself, edit the autograder's files or kill
it. The tamper-proof guarantee of pytest tests (``sandbox/harness/runner.py``) does NOT hold
here; gradescope tests are "bring your own autograder" with Gradescope's own trust model. What
we do guarantee: the results file cannot make us read host files (symlinks refused), cannot
crash or stall the grader (size cap, schema), cannot give more than the maximum (``points``,
else the declared ``max_score`` sum), the cached setup is read-only to every grading, and the
sandbox walls hold as for any run. ``setup.sh`` has the network: it is the teacher's code,
run as the sandbox user with the sandbox's walls otherwise.

Parts: this module (the run, and the metadata and files it is given);
``sandbox.gradescope_results`` (reading and checking ``results.json``, the score);
``sandbox.gradescope_setup`` (setup.sh builds, cached).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.gradescope_results import ResultsError, make_case, parse_results, read_results
from sandbox.gradescope_setup import SetupFailed, open_to_sandbox, prepare, run_env
from sandbox.outcome import TestOutcome, output_tail, trim
from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, Verdict

MOUNT = "/autograder"


def default_metadata(*, title: str, total_points: float) -> dict[str, Any]:
    """Gradescope's ``submission_metadata.json`` with what a grading outside the web app knows
    (the title and total of the package, the time); null or empty where we know nothing."""
    return {
        "id": None,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "assignment": {
            "id": None, "course_id": None, "title": title, "due_date": None,
            "late_due_date": None, "release_date": None, "group_submission": False,
            "group_size": None, "total_points": f"{total_points:.1f}",
            "submission_method": "upload",
        },
        "submission_method": "upload",
        "users": [],
        "previous_submissions": [],
    }  # fmt: skip


def merge_metadata(base: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """``given`` (the web app's facts) over ``base``; its ``assignment`` merged key by key."""
    if not given:
        return base
    merged = {**base, **given}
    merged["assignment"] = {**base.get("assignment", {}), **given.get("assignment", {})}
    return merged


def run_gradescope(
    backend: Backend,
    *,
    autograder_dir: Path,
    submission_dir: Path,
    limits: Limits,
    parent: Path,
    name: str,
    visibility: str,
    points: float | None,
    run_setup: bool = True,
    metadata: dict[str, Any] | None = None,
    setup_cache: Path | None = None,
) -> list[TestOutcome]:
    """Run the Gradescope autograder in ``autograder_dir`` against the files of ``submission_dir``.

    ``points``, when given, is what the whole test is worth, a fixed maximum (see
    ``parse_results``). ``visibility`` is the default for results that do not say.
    ``metadata`` becomes ``/autograder/submission_metadata.json``; ``setup_cache`` is where
    setup.sh builds are kept (default ``gradescope_setup.cache_root()``).
    Raises ``SandboxError`` only when the backend itself fails.
    """

    def failure(message: str, run: RunResult | None = None) -> list[TestOutcome]:
        """The autograder (the teacher's package) gave no result we can trust."""
        tail = output_tail(run.stderr + run.stdout) if run is not None else ""
        return [
            make_case(
                name,
                0.0,
                points or 0.0,
                Verdict.SANDBOX_ERROR,
                visibility,
                trim(message + (f"\n{tail}" if tail else "")),
                run.wall_seconds if run is not None else 0.0,
                Fault.PACKAGE,
            )
        ]

    source = autograder_dir
    ro_binds: dict[str, str] = {}
    setup = autograder_dir / "setup.sh"
    if run_setup and setup.is_file() and not setup.is_symlink():
        try:
            built = prepare(backend, autograder_dir, root=setup_cache)
        except SetupFailed as exc:
            return failure(f"The autograder could not be set up: {exc}")
        source = built.tree / "source"
        ro_binds = {str(built.tree / entry): f"{MOUNT}/{entry}" for entry in built.prefix}
    # Gradescope's tree is bound at /autograder only; /work is an empty folder of its own (a
    # backend that copies /work back after the run must not overwrite what the run wrote).
    folder = Path(tempfile.mkdtemp(dir=parent, prefix="gradescope-"))
    work, empty = folder / "autograder", folder / "work"
    empty.mkdir()
    work.mkdir()
    fstree.copy_tree(source, work / "source")
    fstree.copy_tree(submission_dir, work / "submission")
    (work / "results").mkdir()
    (work / "submission_metadata.json").write_text(json.dumps(metadata or {}, default=str))
    script = work / "source" / "run_autograder"
    if not script.is_file() or script.is_symlink():
        return failure("The autograder folder has no run_autograder file.")
    shutil.copyfile(script, work / "run_autograder")
    (work / "run_autograder").chmod(0o755)
    open_to_sandbox(work)
    with script.open("rb") as fh:
        direct = fh.read(2) == b"#!"
    program = f"{MOUNT}/run_autograder"
    run = backend.run(
        RunSpec(
            argv=[program] if direct else ["bash", program],
            workdir=empty,
            limits=limits.with_(network=False),  # student code never gets the network
            env=run_env(),
            cwd=MOUNT,
            rw_binds={str(work): MOUNT},
            ro_binds=ro_binds,
            discard_workdir=False,
        )
    )
    if run.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT):
        return [
            make_case(
                name,
                0.0,
                points or 0.0,
                run.verdict,
                visibility,
                trim(f"The autograder was stopped: {run.message}"),
                run.wall_seconds,
            )
        ]
    try:
        data = read_results(work / "results")
        cases = parse_results(data, default_visibility=visibility, points=points,
                              stdout=run.stdout.decode("utf-8", errors="replace"))
    except ResultsError as exc:
        exit_note = "" if run.ok else f" (run_autograder: {run.message or run.verdict})"
        return failure(f"The autograder's results could not be graded: {exc}{exit_note}", run)
    for case in cases:
        case.wall_seconds = run.wall_seconds / max(1, len(cases))
    return cases


__all__ = [
    "ResultsError", "default_metadata", "merge_metadata", "parse_results", "read_results",
    "run_gradescope",
]
