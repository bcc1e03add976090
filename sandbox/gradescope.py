"""Run an unchanged Gradescope autograder (``type = "gradescope"`` tests) inside the sandbox.

Theory of operation
-------------------
One host folder per test holds Gradescope's layout: ``source/`` (a copy of the package's
autograder folder), ``submission/`` (a copy of the student's built files, never links),
``results/`` (created empty by us) and ``run_autograder`` (copied from ``source/`` as Gradescope
does). The folder is the run's workdir, so it appears at ``/work`` *and*, through a second
bind of the same folder, at ``/autograder``: scripts that use Gradescope's absolute paths
(``/autograder/submission``, ``/autograder/results/results.json``) work unchanged, and the
backend's caps on ``/work`` growth cover both. The cwd is ``/autograder/source``.

``setup.sh`` (when present and ``setup`` is not false) runs first, in its own sandbox run,
*before* the submission is copied in, under the package's limits: no root, no network, no
apt-get, and it runs for every graded submission (there is no image to build it into). What it
leaves under ``/autograder`` stays for ``run_autograder``. A failing ``setup.sh`` gives one
SANDBOX_ERROR result saying why (a package fault: "could not be graded"), never a crash and
never points.

Then ``run_autograder`` runs once (directly when it starts with ``#!``, else with bash). After
the run has ended, every process of it dead, ``results/results.json`` is read on the host
without trusting it: not a symlink (``O_NOFOLLOW`` on the folder and the file), a regular file
of at most 1 MB, strict UTF-8 JSON (no NaN/Infinity, no duplicate keys), Gradescope's schema with
known keys only, finite numbers, ``0 <= score <= max_score``, names and outputs trimmed. Any doubt
gives one SANDBOX_ERROR result ("could not be graded", a package fault), never points. In this
trust model student code can also remove or spoil the file, which then reads as the package's
fault too: the submission gets no score and the teacher sees why.

Trust model (read this before using it)
----------------------------------------
In Gradescope's model the autograder and the student's code run in the *same* sandbox, as the
same user: student code can write ``results.json`` itself, edit the autograder's files or kill
it. The tamper-proof guarantee of pytest tests (``sandbox/harness/runner.py``) does NOT hold
here; gradescope tests are "bring your own autograder" with Gradescope's own trust model. What
we do guarantee: the results file cannot make us read host files (symlinks refused), cannot
crash or stall the grader (size cap, schema), cannot give more than the ``max_score`` it
declares (or ``points`` when the package sets it), and the sandbox walls hold as for any run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.outcome import OUTPUT_SHOWN, TestOutcome, output_tail, trim
from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, Verdict

MOUNT = "/autograder"
RESULTS_MAX_BYTES = 1_000_000
MAX_TESTS = 1000
NAME_MAX = 200
# Gradescope's visibilities → ours. after_published has no equivalent here: hidden is the
# safe choice (it never shows a student something earlier than the teacher meant).
VISIBILITY_MAP = {
    "visible": "visible",
    "hidden": "hidden",
    "after_due_date": "after_due_date",
    "after_published": "hidden",
}
TOP_KEYS = {
    "score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}  # fmt: skip


def _case(name: str, score: float, max_score: float, verdict: Verdict, visibility: str,
          output: str, wall_seconds: float = 0.0, fault: Fault | None = None) -> TestOutcome:
    return TestOutcome(name, score, max_score, verdict, visibility, output, wall_seconds,
                       kind="gradescope", fault=fault)


class ResultsError(ValueError):
    """results.json is missing or not acceptable; the message says why (for teacher and student)."""


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
) -> list[TestOutcome]:
    """Run the Gradescope autograder in ``autograder_dir`` against the files of ``submission_dir``.

    ``points``, when given, is what the whole test is worth, a fixed maximum: results worth less
    get a "not reported" case for the rest, results worth more are scaled down to it (and a
    failure is out of ``points``). Without it the results' own max_score values count.
    ``visibility`` is the default for results that do not say.
    Raises ``SandboxError`` only when the backend itself fails.
    """
    work = Path(tempfile.mkdtemp(dir=parent, prefix="gradescope-"))
    fstree.copy_tree(autograder_dir, work / "source")
    (work / "submission").mkdir()
    (work / "results").mkdir()
    binds = {str(work): MOUNT}
    env = {"HOME": "/tmp"}  # noqa: S108 - the sandbox's private /tmp

    def failure(message: str, run: RunResult | None = None) -> list[TestOutcome]:
        """The autograder (the teacher's package) gave no result we can trust."""
        tail = output_tail(run.stderr + run.stdout) if run is not None else ""
        return [
            _case(
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

    setup = work / "source" / "setup.sh"
    if run_setup and setup.is_file() and not setup.is_symlink():
        run = backend.run(
            RunSpec(
                argv=["bash", f"{MOUNT}/source/setup.sh"],
                workdir=work,
                limits=limits,
                env=env,
                cwd=f"{MOUNT}/source",
                rw_binds=binds,
            )
        )
        if not run.ok:
            return failure(
                "The autograder could not be set up: setup.sh failed "
                f"({run.message or run.verdict}). It runs inside the sandbox without network "
                "and without root, so apt-get and downloads cannot work: install what it needs "
                "in the sandbox image, or set setup = false.",
                run,
            )
    fstree.copy_tree(submission_dir, work / "submission")  # the build's: any shape
    script = work / "source" / "run_autograder"
    if not script.is_file() or script.is_symlink():
        return failure("The autograder folder has no run_autograder file.")
    shutil.copyfile(script, work / "run_autograder")
    (work / "run_autograder").chmod(0o755)
    with script.open("rb") as fh:
        direct = fh.read(2) == b"#!"
    program = f"{MOUNT}/run_autograder"
    run = backend.run(
        RunSpec(
            argv=[program] if direct else ["bash", program],
            workdir=work,
            limits=limits,
            env=env,
            cwd=f"{MOUNT}/source",
            rw_binds=binds,
            discard_workdir=False,
        )
    )
    if run.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT):
        return [
            _case(
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
        cases = parse_results(data, default_visibility=visibility, points=points)
    except ResultsError as exc:
        exit_note = "" if run.ok else f" (run_autograder: {run.message or run.verdict})"
        return failure(f"The autograder's results could not be graded: {exc}{exit_note}", run)
    for case in cases:
        case.wall_seconds = run.wall_seconds / max(1, len(cases))
    return cases


def read_results(results_dir: Path) -> Any:
    """The parsed ``results.json`` of ``results_dir``: refuses symlinks, non-files, > 1 MB."""
    try:
        dir_fd = os.open(results_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise ResultsError("the results folder was replaced or removed") from exc
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open("results.json", flags, dir_fd=dir_fd)
        except FileNotFoundError as exc:
            raise ResultsError("results/results.json was not written") from exc
        except OSError as exc:  # ELOOP: a symlink
            raise ResultsError("results/results.json is not a regular file") from exc
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ResultsError("results/results.json is not a regular file")
        if info.st_size > RESULTS_MAX_BYTES:
            raise ResultsError(f"results/results.json is larger than {RESULTS_MAX_BYTES} bytes")
        raw = fh.read(RESULTS_MAX_BYTES + 1)
    if len(raw) > RESULTS_MAX_BYTES:
        raise ResultsError(f"results/results.json is larger than {RESULTS_MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as exc:
        raise ResultsError("results/results.json is not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise ResultsError(f"results/results.json is not valid JSON ({exc})") from exc


def parse_results(
    data: Any, *, default_visibility: str, points: float | None
) -> list[TestOutcome]:
    """Validate Gradescope's results.json schema; one case per entry of ``tests``."""
    _expect(isinstance(data, dict), "the top level must be an object")
    unknown = set(data) - TOP_KEYS
    _expect(not unknown, f"unknown keys {sorted(unknown)}")
    top_visibility = _visibility(data.get("visibility"), default_visibility, "visibility")
    total = _score(data["score"], "score") if "score" in data else None
    tests = data.get("tests", [])
    _expect(isinstance(tests, list), "tests must be a list")
    _expect(len(tests) <= MAX_TESTS, f"more than {MAX_TESTS} tests")
    cases: list[TestOutcome] = []
    for index, raw in enumerate(tests):
        where = f"tests[{index}]"
        _expect(isinstance(raw, dict), f"{where} must be an object")
        unknown = set(raw) - TEST_KEYS
        _expect(not unknown, f"{where} has unknown keys {sorted(unknown)}")
        max_score = _score(raw.get("max_score", 0), f"{where}.max_score")
        score = _score(raw.get("score", 0), f"{where}.score")
        _expect(score <= max_score, f"{where}.score {score:g} is above its max_score {max_score:g}")
        status = raw.get("status")
        _expect(status in (None, "passed", "failed"), f"{where}.status must be passed or failed")
        passed = status == "passed" if status is not None else score == max_score
        name = _text(raw.get("name", f"Test {index + 1}"), f"{where}.name", NAME_MAX)
        if "number" in raw:
            number = _text(str(raw["number"]), f"{where}.number", 20)
            name = f"{number} {name}"
        output = _text(raw.get("output", ""), f"{where}.output", OUTPUT_SHOWN)
        visibility = _visibility(raw.get("visibility"), top_visibility, f"{where}.visibility")
        verdict = Verdict.PASSED if passed else Verdict.FAILED
        cases.append(_case(name, score, max_score, verdict, visibility, output))
    if not cases:
        _expect(total is not None, "no tests and no score")
        _expect(points is not None, "only a top-level score: set points in assignment.toml")
        assert total is not None and points is not None
        _expect(total <= points, f"score {total:g} is above the test's points {points:g}")
        verdict = Verdict.PASSED if total == points else Verdict.FAILED
        output = _text(data.get("output", ""), "output", OUTPUT_SHOWN)
        return [_case("Autograder", total, points, verdict, top_visibility, output)]
    if points is not None:
        # ``points`` is the fixed maximum, as an assignment's total is on Gradescope: tests the
        # autograder did not report (its test file failed to import, files were missing) count
        # as not passed, never as a smaller maximum. Only results worth more than ``points``
        # are scaled down to it.
        declared = sum(c.max_score for c in cases)
        _expect(declared > 0, "points is set but every max_score is 0")
        if declared > points:
            factor = points / declared
            for case in cases:
                case.score, case.max_score = case.score * factor, case.max_score * factor
        elif declared < points:
            missing = points - declared
            cases.append(_case(
                "Tests the autograder did not report", 0.0, missing, Verdict.FAILED,
                top_visibility,
                f"The autograder reported tests worth {declared:g} of the {points:g} points; "
                f"the other {missing:g} count as not passed.",
            ))
    return cases


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise ResultsError(message)


def _score(value: Any, where: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    _expect(ok and math.isfinite(value), f"{where} must be a finite number")
    _expect(0 <= value <= 1_000_000, f"{where} must be between 0 and 1000000")
    return float(value)


def _text(value: Any, where: str, limit: int) -> str:
    _expect(isinstance(value, str), f"{where} must be a string")
    return trim(value.replace("\x00", "").strip(), limit)


def _visibility(value: Any, default: str, where: str) -> str:
    if value is None:
        return default
    _expect(value in VISIBILITY_MAP, f"{where} must be one of {sorted(VISIBILITY_MAP)}")
    return VISIBILITY_MAP[value]


def _no_constant(name: str) -> Any:
    raise ResultsError(f"{name} is not a number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    _expect(len(result) == len(pairs), "an object has duplicate keys")
    return result


__all__ = ["ResultsError", "parse_results", "read_results", "run_gradescope"]
