"""Gradescope's ``results.json``: read it without trusting it and turn it into our results.

``read_results`` opens the file the autograder (and, in Gradescope's trust model, possibly the
student's code) wrote, refusing symlinks, non-files and more than 1 MB, as strict UTF-8 JSON.
``parse_results`` checks it against Gradescope's schema and computes the score Gradescope would
(see ``sandbox.gradescope`` for the rules and the trust model). Any doubt raises
``ResultsError``: "could not be graded", never points.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from sandbox.outcome import OUTPUT_SHOWN, TestOutcome, trim
from sandbox.types import Fault, Verdict

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


def make_case(name: str, score: float, max_score: float, verdict: Verdict, visibility: str,
              output: str, wall_seconds: float = 0.0, fault: Fault | None = None) -> TestOutcome:
    return TestOutcome(name, score, max_score, verdict, visibility, output, wall_seconds,
                       kind="gradescope", fault=fault)


class ResultsError(ValueError):
    """results.json is missing or not acceptable; the message says why (for teacher and student)."""


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
        cases.append(make_case("Autograder output", 0.0, 0.0, Verdict.PASSED, top_visibility,
                               top_output))
    for name, test_score, test_max, passed, visibility, output, _where in parsed:
        if passed is None:
            passed = test_score >= test_max - _EPS
        verdict = Verdict.PASSED if passed else Verdict.FAILED
        if exact:
            cases.append(make_case(name, test_score, test_max, verdict, visibility, output))
        else:
            said = f"Scored {test_score:g} of {test_max:g} (the autograder's total is below)."
            cases.append(make_case(name, 0.0, 0.0, verdict, visibility,
                                   trim(said + (f"\n{output}" if output else ""))))
    if exact and points is not None and declared < points - _EPS:
        # ``points`` is the fixed maximum, as an assignment's total is on Gradescope: tests the
        # autograder did not report (its test file failed to import, files were missing) count
        # as not passed, never as a smaller maximum.
        missing = points - declared
        cases.append(make_case(
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
        cases.append(make_case("Total score" if parsed else "Autograder", kept, maximum, verdict,
                               top_visibility, trim(output if parsed else top_output)))
    if data.get("stdout_visibility") is not None and stdout.strip():
        shown = _visibility(data["stdout_visibility"], "hidden", "stdout_visibility")
        cases.append(make_case("Autograder output (stdout)", 0.0, 0.0, Verdict.PASSED, shown,
                               _text(stdout, "stdout", OUTPUT_SHOWN, "ansi")))
    if notes:
        cases.append(make_case("Notes on results.json (staff only)", 0.0, 0.0, Verdict.PASSED,
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


__all__ = ["ResultsError", "make_case", "parse_results", "read_results"]
