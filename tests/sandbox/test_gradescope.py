"""Gradescope autograders run unchanged, and whatever results.json they leave is distrusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.grade import grade
from sandbox.gradescope import ResultsError, parse_results
from sandbox.package import PackageError, load_package
from sandbox.types import Verdict

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "examples" / "packages" / "gradescope_echo"
SUBMISSIONS = ROOT / "examples" / "submissions" / "gradescope_echo"
CORRECT = {"solution.py": (SUBMISSIONS / "correct.py").read_bytes()}

TOML = """
title = "G"
language = "python"
submission = "solution.py"
[limits]
wall_seconds = {wall}
cpu_seconds = 1
[[tests]]
type = "gradescope"
autograder = "ag"
visibility = "hidden"
{extra}
"""
RESULTS = "/autograder/results/results.json"


def make_package(tmp_path: Path, run_autograder: str, *, setup: str | None = None,
                 extra: str = "", wall: float = 5) -> Path:
    root = tmp_path / "package"
    (root / "ag").mkdir(parents=True)
    (root / "assignment.toml").write_text(TOML.format(wall=wall, extra=extra))
    (root / "ag" / "run_autograder").write_text(run_autograder)
    if setup is not None:
        (root / "ag" / "setup.sh").write_text(setup)
    return root


def write_results(payload: object) -> str:
    return f"cat > {RESULTS} <<'EOF'\n{json.dumps(payload)}\nEOF\n"


@pytest.mark.sandbox
def test_example_autograder_gives_full_marks_to_a_correct_submission(backend):
    report = grade(load_package(ECHO), CORRECT, backend)
    assert [(t.name, t.score, t.max_score, t.verdict) for t in report.tests] == [
        ("examples", 2, 2, Verdict.PASSED),
        ("long input", 1, 1, Verdict.PASSED),
    ]
    assert report.tests[1].visibility == "hidden"  # Gradescope's after_published
    assert all(t.kind == "gradescope" for t in report.tests)


@pytest.mark.sandbox
def test_example_autograder_fails_a_wrong_submission_with_its_output(backend):
    wrong = {"solution.py": (SUBMISSIONS / "wrong.py").read_bytes()}
    report = grade(load_package(ECHO), wrong, backend)
    assert (report.score, report.max_score) == (0, 3)
    assert "returned 'hi hi hi '" in report.tests[0].output


@pytest.mark.sandbox
def test_grade_cli_runs_a_gradescope_package(tmp_path):
    env = {**os.environ, "GRADER_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "grade", str(ECHO), str(SUBMISSIONS / "correct.py"),
         "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    if "bubblewrap cannot" in done.stderr:
        pytest.skip(done.stderr)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert (results["score"], results["max_score"]) == (3, 3)


@pytest.mark.sandbox
def test_points_in_the_toml_are_a_fixed_maximum(backend, tmp_path):
    # The autograder reported 4 of 10 points (say a test file could not run): the other 6 are
    # not passed, and the submission scores out of 10, not out of the 4 it happened to report.
    script = write_results({"tests": [
        {"name": "a", "score": 1, "max_score": 1},
        {"name": "b", "score": 0, "max_score": 3, "visibility": "visible"},
    ]})
    package = load_package(make_package(tmp_path, script, extra="points = 10"))
    report = grade(package, CORRECT, backend)
    assert [(t.score, t.max_score, t.verdict) for t in report.tests] == [
        (1, 1, Verdict.PASSED), (0, 3, Verdict.FAILED), (0, 6, Verdict.FAILED)]
    assert (report.score, report.max_score) == (1, 10)
    assert "4 of the 10 points" in report.tests[-1].output


@pytest.mark.sandbox
def test_results_worth_more_than_the_points_are_scaled_down_to_them(backend, tmp_path):
    script = write_results({"tests": [
        {"name": "a", "score": 10, "max_score": 10},
        {"name": "b", "score": 0, "max_score": 30, "visibility": "visible"},
    ]})
    package = load_package(make_package(tmp_path, script, extra="points = 10"))
    report = grade(package, CORRECT, backend)
    assert [(t.score, t.max_score) for t in report.tests] == [(2.5, 2.5), (0, 7.5)]


@pytest.mark.sandbox
def test_setup_runs_before_the_submission_is_copied_in(backend, tmp_path):
    setup = 'echo "files: $(ls /autograder/submission | wc -l)" > /autograder/source/seen\n'
    script = f'''echo "{{\\"score\\": 1, \\"output\\": \\"$(cat seen)\\"}}" > {RESULTS}\n'''
    package = load_package(make_package(tmp_path, script, setup=setup, extra="points = 1"))
    report = grade(package, CORRECT, backend)
    assert report.tests[0].verdict == Verdict.PASSED, report.tests[0].output
    assert report.tests[0].output == "files: 0"  # setup.sh ran, before the submission came


@pytest.mark.sandbox
def test_setup_needing_network_gives_a_clear_message_not_a_crash(backend, tmp_path):
    setup = (
        "apt-get update -qq || python3 -c "
        "\"import urllib.request as u; u.urlopen('http://1.1.1.1', timeout=2)\"\n"
    )
    package = load_package(make_package(tmp_path, write_results({"score": 1}), setup=setup,
                                        extra="points = 4"))
    report = grade(package, CORRECT, backend)
    (only,) = report.tests
    assert (only.verdict, only.score, only.max_score) == (Verdict.SANDBOX_ERROR, 0, 4)
    assert "setup.sh failed" in only.output and "without network" in only.output


HOSTILE = {
    "missing": ("true\n", "was not written"),
    "not_json": (f"echo '{{nope' > {RESULTS}\n", "not valid JSON"),
    "huge": (f"head -c 2000000 /dev/zero | tr '\\0' ' ' > {RESULTS}\n", "larger than"),
    "score_above_max": (
        write_results({"tests": [{"name": "x", "score": 5, "max_score": 1}]}),
        "above its max_score",
    ),
    "nan": (
        f"""echo '{{"tests": [{{"score": NaN, "max_score": 1}}]}}' > {RESULTS}\n""",
        "NaN is not a number",
    ),
    "infinity_max": (
        f"""echo '{{"tests": [{{"score": 1, "max_score": 1e999}}]}}' > {RESULTS}\n""",
        "finite",
    ),
    "symlink_to_passwd": (f"ln -s /etc/passwd {RESULTS}\n", "not a regular file"),
    "results_dir_swapped": (
        "rm -r /autograder/results && ln -s /tmp /autograder/results && "
        "echo '{\"score\": 1}' > /tmp/results.json\n",
        "replaced or removed",
    ),
    # A FIFO never leaves the scratch tmpfs of a root backend (special files are not copied
    # back): the results file is then missing; elsewhere it is there and refused.
    "fifo": (f"mkfifo {RESULTS}\n", ("not a regular file", "was not written")),
    "unknown_key": (write_results({"tests": [], "grade": "A+"}), "unknown keys"),
    "bool_score": (write_results({"tests": [{"score": True, "max_score": 1}]}), "finite"),
    "crash_without_results": ("echo boom >&2; exit 3\n", "boom"),
}


@pytest.mark.sandbox
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_results_are_never_graded(backend, tmp_path, case):
    script, message = HOSTILE[case]
    package = load_package(make_package(tmp_path, script, extra="points = 4"))
    report = grade(package, CORRECT, backend)
    (only,) = report.tests
    assert (only.verdict, only.score, only.max_score) == (Verdict.SANDBOX_ERROR, 0, 4)
    messages = (message,) if isinstance(message, str) else message
    assert "could not be graded" in only.output, only.output
    assert any(m in only.output for m in messages), only.output
    assert "root:" not in only.output


@pytest.mark.sandbox
def test_autograder_that_hangs_times_out_with_no_points(backend, tmp_path):
    script = write_results({"score": 1}) + "sleep 30\n"
    package = load_package(make_package(tmp_path, script, extra="points = 4", wall=1))
    report = grade(package, CORRECT, backend)
    (only,) = report.tests
    assert (only.verdict, only.score, only.max_score) == (Verdict.TIMEOUT, 0, 4)


def test_results_schema_maps_visibility_status_and_trims_text():
    cases = parse_results(
        {"visibility": "after_due_date", "tests": [
            {"name": "  n  ", "number": 1.2, "score": 0.5, "max_score": 1, "status": "passed",
             "output": "x" * 20_000},
            {"max_score": 0, "visibility": "after_published"},
        ]},
        default_visibility="visible", points=None,
    )
    assert [(c.name, c.verdict, c.visibility) for c in cases] == [
        ("1.2 n", Verdict.PASSED, "after_due_date"),
        ("Test 2", Verdict.PASSED, "hidden"),
    ]
    assert len(cases[0].output) < 8100


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level"),
        ({"tests": [{"status": "ok"}]}, "status"),
        ({"tests": [{"score": -1, "max_score": 1}]}, "between"),
        ({"tests": [{"name": 3}]}, "name must be a string"),
        ({"score": 2}, "set points"),
        ({"tests": [{}] * 1001}, "more than"),
    ],
)
def test_invalid_results_schemas_are_refused(data, message):
    with pytest.raises(ResultsError, match=message):
        parse_results(data, default_visibility="visible", points=None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('autograder = "../x"', "relative path inside the package"),
        ('autograder = "nowhere"', "is not a folder"),
        ('autograder = "ag"\nsetup = "yes"', "setup must be true or false"),
        ('autograder = "ag"\npoints = 0', "above 0"),
        ('autograder = "ag"\nfile = "x"', "unknown keys ['file']"),
        ('autograder = "empty"', "no run_autograder"),
    ],
)
def test_package_refuses_bad_gradescope_tests(tmp_path, extra, message):
    (tmp_path / "ag").mkdir()
    (tmp_path / "ag" / "run_autograder").write_text("true\n")
    (tmp_path / "empty").mkdir()
    toml = TOML.format(wall=5, extra=extra).replace('autograder = "ag"\n', "", 1)
    (tmp_path / "assignment.toml").write_text(toml)
    with pytest.raises(PackageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_package(tmp_path)
