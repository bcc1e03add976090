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
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import fstree
from sandbox.gradescope_setup import SetupFailed, open_to_sandbox, prepare, run_env
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
# Gradescope's "Output String Formatting". Everything is shown here as plain text (never as
# HTML); ANSI colour codes are removed so the text reads.
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_KEYS = {
    "score", "max_score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}  # fmt: skip
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_EPS = 1e-9


def _case(name: str, score: float, max_score: float, verdict: Verdict, visibility: str,
          output: str, wall_seconds: float = 0.0, fault: Fault | None = None) -> TestOutcome:
    return TestOutcome(name, score, max_score, verdict, visibility, output, wall_seconds,
                       kind="gradescope", fault=fault)


class ResultsError(ValueError):
    """results.json is missing or not acceptable; the message says why (for teacher and student)."""


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
        cases = parse_results(data, default_visibility=visibility, points=points,
                              stdout=run.stdout.decode("utf-8", errors="replace"))
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
    data: Any, *, default_visibility: str, points: float | None, stdout: str = ""
) -> list[TestOutcome]:
    """Gradescope's results.json → one case per entry of ``tests`` (sorted by ``number`` when
    every test has one, as Gradescope shows them), plus informational 0-point cases: the
    top-level ``output``, the run's stdout when ``stdout_visibility`` shows it, and (hidden)
    notes for staff about keys ignored or scores cut.

    The score is Gradescope's: top-level ``score`` if given, else the sum of the tests'. The
    maximum is ``points`` when set, else the sum of the tests' ``max_score``. When the tests'
    own scores add up to exactly that (every test within 0..max_score, the top-level score
    absent or equal to their sum, their maximum not above ``points``) they carry the score, and
    tests worth less than ``points`` get a "not reported" case for the rest. Otherwise (a
    penalty in the top-level score, negative or extra-credit tests) the tests are shown with
    their points in their output and carry none, and one "Total score" case carries the total,
    cut to 0..maximum.
    """
    _expect(isinstance(data, dict), "the top level must be an object")
    notes: list[str] = []
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        notes.append(f"Ignored top-level keys Gradescope does not define: {unknown}.")
    top_visibility = _visibility(data.get("visibility"), default_visibility, "visibility")
    top_format = _format(data.get("output_format"), "simple_format", "output_format")
    test_format = _format(data.get("test_output_format"), "simple_format", "test_output_format")
    name_format = _format(data.get("test_name_format"), "text", "test_name_format")
    total = None if data.get("score") is None else _score(data["score"], "score")
    tests = data.get("tests", [])
    tests = [] if tests is None else tests
    _expect(isinstance(tests, list), "tests must be a list")
    _expect(len(tests) <= MAX_TESTS, f"more than {MAX_TESTS} tests")
    parsed: list[tuple[str, float, float, bool | None, str, str, str]] = []
    numbers: list[tuple[int, ...] | None] = []
    ignored: set[str] = set()
    for index, raw in enumerate(tests):
        where = f"tests[{index}]"
        _expect(isinstance(raw, dict), f"{where} must be an object")
        ignored |= set(raw) - TEST_KEYS
        max_score = 0.0 if raw.get("max_score") is None else _score(raw["max_score"],
                                                                      f"{where}.max_score")
        score = 0.0 if raw.get("score") is None else _score(raw["score"], f"{where}.score")
        status = raw.get("status")
        _expect(status in (None, "passed", "failed"), f"{where}.status must be passed or failed")
        passed = None if status is None else status == "passed"
        fmt = _format(raw.get("name_format"), name_format, f"{where}.name_format")
        name = _text(_scalar(raw.get("name"), f"Test {index + 1}", f"{where}.name"),
                     f"{where}.name", NAME_MAX, fmt)
        number = _scalar(raw.get("number"), "", f"{where}.number")
        numbers.append(_number_key(number))
        if number:
            name = f"{_text(number, f'{where}.number', 20, 'text')} {name}"
        fmt = _format(raw.get("output_format"), test_format, f"{where}.output_format")
        output = _text(raw.get("output") or "", f"{where}.output", OUTPUT_SHOWN, fmt)
        visibility = _visibility(raw.get("visibility"), top_visibility, f"{where}.visibility")
        parsed.append((name, score, max_score, passed, visibility, output, where))
    if ignored:
        notes.append(f"Ignored test keys Gradescope does not define: {sorted(ignored)}.")
    if parsed and all(n is not None for n in numbers):
        order = sorted(range(len(parsed)), key=lambda i: (numbers[i], i))
        parsed = [parsed[i] for i in order]
    summed = sum(p[1] for p in parsed)
    declared = sum(p[2] for p in parsed)
    maximum = points if points is not None else declared
    score = total if total is not None else summed
    top_output = _text(data.get("output") or "", "output", OUTPUT_SHOWN, top_format)
    if not parsed:
        _expect(total is not None, "no tests and no score")
        _expect(points is not None, "only a top-level score: set points in assignment.toml")
    exact = bool(parsed) and (
        (total is None or abs(total - summed) <= _EPS)
        and all(-_EPS <= p[1] <= p[2] + _EPS for p in parsed)
        and (points is None or declared <= points + _EPS)
    )
    cases: list[TestOutcome] = []
    if top_output and exact:
        cases.append(_case("Autograder output", 0.0, 0.0, Verdict.PASSED, top_visibility,
                           top_output))
    for name, test_score, test_max, passed, visibility, output, _where in parsed:
        if passed is None:
            passed = test_score >= test_max - _EPS
        verdict = Verdict.PASSED if passed else Verdict.FAILED
        if exact:
            cases.append(_case(name, test_score, test_max, verdict, visibility, output))
        else:
            said = f"Scored {test_score:g} of {test_max:g} (the autograder's total is below)."
            cases.append(_case(name, 0.0, 0.0, verdict, visibility,
                               trim(said + (f"\n{output}" if output else ""))))
    if exact and points is not None and declared < points - _EPS:
        # ``points`` is the fixed maximum, as an assignment's total is on Gradescope: tests the
        # autograder did not report (its test file failed to import, files were missing) count
        # as not passed, never as a smaller maximum.
        missing = points - declared
        cases.append(_case(
            "Tests the autograder did not report", 0.0, missing, Verdict.FAILED, top_visibility,
            f"The autograder reported tests worth {declared:g} of the {points:g} points; "
            f"the other {missing:g} count as not passed.",
        ))
    elif not exact:
        _expect(maximum > 0, "no test has a max_score: set points in assignment.toml")
        kept = min(max(score, 0.0), maximum)
        why = (
            f"The autograder's total is {score:g} of {maximum:g}"
            + ("" if total is None else f" (its top-level score; its tests add up to {summed:g})")
            + "."
        )
        if score > maximum + _EPS:
            notes.append(f"The autograder gave {score:g} points, more than the maximum "
                         f"{maximum:g}: extra credit is not supported, {maximum:g} counted.")
        elif score < -_EPS:
            notes.append(f"The autograder gave {score:g} points: counted as 0.")
        verdict = Verdict.PASSED if kept >= maximum - _EPS else Verdict.FAILED
        output = why + (f"\n{top_output}" if top_output and parsed else "")
        cases.append(_case("Total score" if parsed else "Autograder", kept, maximum, verdict,
                           top_visibility, trim(output if parsed else top_output)))
    if data.get("stdout_visibility") is not None and stdout.strip():
        shown = _visibility(data["stdout_visibility"], "hidden", "stdout_visibility")
        cases.append(_case("Autograder output (stdout)", 0.0, 0.0, Verdict.PASSED, shown,
                           _text(stdout, "stdout", OUTPUT_SHOWN, "ansi")))
    if notes:
        cases.append(_case("Notes on results.json (staff only)", 0.0, 0.0, Verdict.PASSED,
                           "hidden", "\n".join(notes)))
    return cases


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise ResultsError(message)


def _score(value: Any, where: str) -> float:
    """A finite number (a numeric string too, as Gradescope's own ``total_points`` is)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ResultsError(f"{where} must be a finite number") from None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    _expect(ok and math.isfinite(value), f"{where} must be a finite number")
    _expect(-1_000_000 <= value <= 1_000_000, f"{where} must be between -1000000 and 1000000")
    return float(value)


def _scalar(value: Any, default: str, where: str) -> str:
    if value is None:
        return default
    ok = isinstance(value, str | int | float) and not isinstance(value, bool)
    _expect(ok, f"{where} must be a string")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number_key(number: str) -> tuple[int, ...] | None:
    parts = number.strip().split(".")
    return tuple(int(p) for p in parts) if number and all(p.isdigit() for p in parts) else None


def _text(value: Any, where: str, limit: int, fmt: str) -> str:
    _expect(isinstance(value, str), f"{where} must be a string")
    text = value.replace("\x00", "")
    if fmt == "ansi":
        text = _ANSI.sub("", text)
    return trim(text.strip(), limit)


def _format(value: Any, default: str, where: str) -> str:
    if value is None:
        return default
    _expect(value in FORMATS, f"{where} must be one of {sorted(FORMATS)}")
    return str(value)


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


def write_files(files: dict[str, bytes], folder: Path) -> Path:
    """The student's files as uploaded, in a fresh ``folder`` (names are intake-normalized)."""
    folder.mkdir()
    for rel, content in files.items():
        target = folder / PurePosixPath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


__all__ = [
    "ResultsError", "default_metadata", "merge_metadata", "parse_results", "read_results",
    "run_gradescope", "write_files",
]
