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
from sandbox.types import Fault, Verdict

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


@pytest.fixture(autouse=True)
def _setup_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test builds its setup.sh afresh (builds are cached under the data folder)."""
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "data"))


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
def test_results_worth_more_than_the_points_count_their_sum_cut_at_the_points(backend, tmp_path):
    # As on Gradescope: the score is the sum of the tests' scores, out of the assignment's
    # total; 10 of tests worth 40 is full marks on a 10-point assignment (not 2.5).
    script = write_results({"tests": [
        {"name": "a", "score": 10, "max_score": 10},
        {"name": "b", "score": 0, "max_score": 30, "visibility": "visible"},
    ]})
    package = load_package(make_package(tmp_path, script, extra="points = 10"))
    report = grade(package, CORRECT, backend)
    assert [(t.name, t.score, t.max_score) for t in report.tests] == [
        ("a", 0, 0), ("b", 0, 0), ("Total score", 10, 10)]
    assert "Scored 10 of 10" in report.tests[0].output
    assert (report.score, report.max_score) == (10, 10)


@pytest.mark.sandbox
def test_setup_runs_before_the_submission_is_copied_in(backend, tmp_path):
    setup = 'echo "files: $(ls /autograder/submission | wc -l)" > /autograder/source/seen\n'
    script = f'''echo "{{\\"score\\": 1, \\"output\\": \\"$(cat source/seen)\\"}}" > {RESULTS}\n'''
    package = load_package(make_package(tmp_path, script, setup=setup, extra="points = 1"))
    report = grade(package, CORRECT, backend)
    assert report.tests[0].verdict == Verdict.PASSED, report.tests[0].output
    assert report.tests[0].output == "files: 0"  # setup.sh ran, before the submission came


@pytest.mark.sandbox
def test_setup_installing_a_system_package_the_sandbox_lacks_names_it(backend, tmp_path):
    # No root in the setup run: apt-get accepts what the system has and names what it lacks.
    setup = "apt-get update\napt-get install -y python3 grader-no-such-package-xyz\n"
    package = load_package(make_package(tmp_path, write_results({"score": 1}), setup=setup,
                                        extra="points = 4"))
    report = grade(package, CORRECT, backend)
    (only,) = report.tests
    assert (only.verdict, only.score, only.max_score) == (Verdict.SANDBOX_ERROR, 0, 4)
    assert only.fault == Fault.PACKAGE and "could not be set up" in only.output
    assert "not on the grader's sandbox system: grader-no-such-package-xyz" in only.output
    assert "python3" not in only.output.split("sandbox system:")[1].split(".")[0]
    assert report.ungradable is not None and "setup.sh failed" in report.ungradable.cause


HOSTILE = {
    "missing": ("true\n", "was not written"),
    "not_json": (f"echo '{{nope' > {RESULTS}\n", "not valid JSON"),
    "huge": (f"head -c 2000000 /dev/zero | tr '\\0' ' ' > {RESULTS}\n", "larger than"),
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
    "score_not_a_number": (write_results({"tests": [{"score": "five", "max_score": 1}]}),
                           "finite"),
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
        ({"tests": [{"score": 1e7, "max_score": 1}]}, "between"),
        ({"tests": [{"name": [3]}]}, "name must be a string"),
        ({"tests": [{"output_format": "pdf"}]}, "output_format must be one of"),
        ({"tests": [{"score": 1}]}, "set points"),  # a score, and no maximum anywhere
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


def parse(data: object, points: float | None = None, stdout: str = ""):
    return parse_results(data, default_visibility="visible", points=points, stdout=stdout)


def test_what_gradescope_utils_writes_is_accepted_as_it_is():
    # JSONTestRunner's own output: execution_time as a string, a leaderboard (order may be
    # null), tags, tests without a weight (no score at all), a top-level score = their sum.
    cases = parse({
        "tests": [
            {"name": "t1", "score": 2.0, "max_score": 2.0, "status": "passed", "number": "1",
             "tags": ["loops"], "visibility": "visible", "extra_data": {"k": 1}},
            {"name": "unweighted", "status": "failed", "output": "Test Failed: boom\n"},
        ],
        "leaderboard": [{"name": "speed", "value": 3.5, "order": None}],
        "execution_time": "0.02", "score": 2.0, "visibility": "visible",
    }, points=2)
    assert [(c.name, c.score, c.max_score, c.verdict) for c in cases] == [
        ("1 t1", 2, 2, Verdict.PASSED), ("unweighted", 0, 0, Verdict.FAILED)]


def test_a_top_level_score_overrides_the_sum_of_the_tests():
    # A late penalty applied in a post_processor: 8 from the tests, 6 is the score.
    cases = parse({"score": 6, "tests": [
        {"name": "a", "score": 5, "max_score": 5}, {"name": "b", "score": 3, "max_score": 5}]},
        points=10)
    assert [(c.name, c.score, c.max_score) for c in cases] == [
        ("a", 0, 0), ("b", 0, 0), ("Total score", 6, 10)]
    assert "top-level score; its tests add up to 8" in cases[-1].output
    assert "Scored 3 of 5" in cases[1].output and cases[1].verdict == Verdict.FAILED
    assert sum(c.score for c in cases) == 6


def test_extra_credit_is_cut_at_the_maximum_and_staff_are_told():
    cases = parse({"tests": [{"name": "a", "score": 12, "max_score": 10}]}, points=10)
    assert [(c.name, c.score, c.max_score, c.visibility) for c in cases] == [
        ("a", 0, 0, "visible"), ("Total score", 10, 10, "visible"),
        ("Notes on results.json (staff only)", 0, 0, "hidden")]
    assert "extra credit is not supported" in cases[-1].output


def test_a_penalty_test_lowers_the_total_and_it_never_goes_below_zero():
    penalty = {"name": "style", "score": -2, "max_score": 0}
    cases = parse({"tests": [{"name": "a", "score": 5, "max_score": 5}, penalty]}, points=5)
    assert cases[-1].name == "Total score" and (cases[-1].score, cases[-1].max_score) == (3, 5)
    cases = parse({"tests": [{"name": "a", "score": 1, "max_score": 5}, penalty]}, points=5)
    assert cases[-2].score == 0 and "counted as 0" in cases[-1].output


def test_unknown_keys_are_ignored_with_a_note_for_staff_instead_of_failing_the_student():
    cases = parse({"grade": "A+", "tests": [{"name": "a", "score": 1, "max_score": 1,
                                             "hint": "x"}]})
    assert [(c.name, c.score, c.max_score) for c in cases] == [
        ("a", 1, 1), ("Notes on results.json (staff only)", 0, 0)]
    assert "['grade']" in cases[1].output and "['hint']" in cases[1].output
    assert cases[1].visibility == "hidden"


def test_tests_are_sorted_by_number_like_gradescope_and_names_keep_their_number():
    cases = parse({"tests": [{"name": n, "number": n} for n in ("1.10", "2", "1.2", "1.9")]})
    assert [c.name for c in cases] == ["1.2 1.2", "1.9 1.9", "1.10 1.10", "2 2"]
    unnumbered = parse({"tests": [{"name": "b", "number": "2"}, {"name": "a"}]})
    assert [c.name for c in unnumbered] == ["2 b", "a"]  # array order when not all have one


def test_output_formats_are_shown_as_text_and_ansi_colours_are_removed():
    cases = parse({"test_output_format": "ansi", "tests": [
        {"name": "a", "output": "\x1b[31mred\x1b[0m"},
        {"name": "b", "output": "<b>bold</b>", "output_format": "html"}]})
    assert [c.output for c in cases] == ["red", "<b>bold</b>"]


def test_stdout_is_shown_only_as_stdout_visibility_says():
    data = {"tests": [{"name": "a", "score": 1, "max_score": 1}]}
    assert [c.name for c in parse(data, stdout="debug")] == ["a"]
    cases = parse({**data, "stdout_visibility": "after_due_date"}, stdout="debug\n")
    assert (cases[-1].name, cases[-1].output, cases[-1].visibility, cases[-1].max_score) == (
        "Autograder output (stdout)", "debug", "after_due_date", 0)


def test_numeric_strings_are_numbers_and_a_top_level_output_is_shown_first():
    cases = parse({"output": "Read me", "tests": [{"name": "a", "score": "1.5",
                                                   "max_score": "2"}]})
    assert [(c.name, c.score, c.max_score) for c in cases] == [
        ("Autograder output", 0, 0), ("a", 1.5, 2)]


@pytest.mark.sandbox
def test_run_autograder_starts_in_slash_autograder_with_the_files_as_uploaded(backend, tmp_path):
    # Gradescope's cwd, and a C submission that our own C build would have compiled: the
    # autograder sees only the uploaded file (no binary of ours next to it).
    script = (
        'printf \'{"score": 1, "output": "%s|%s"}\' "$(pwd)" '
        '"$(ls -A /autograder/submission | tr "\\n" " ")" > ' + RESULTS + "\n"
    )
    root = make_package(tmp_path, script, extra="points = 1")
    (root / "assignment.toml").write_text(
        (root / "assignment.toml").read_text().replace('"python"', '"c"')
        .replace("solution.py", "main.c"))
    report = grade(load_package(root), {"main.c": b"int main(void) { return 0 }\n"}, backend)
    assert report.gradable and [(t.name, t.output) for t in report.tests] == [
        ("Autograder", "/autograder|main.c")]


@pytest.mark.sandbox
def test_submission_metadata_is_gradescopes_shape_with_what_the_grader_knows(backend, tmp_path):
    script = (
        "python3 - <<'EOF'\nimport json\n"
        "m = json.load(open('/autograder/submission_metadata.json'))\n"
        "a = m['assignment']\n"
        "out = f\"{a['title']}|{a['total_points']}|{a['due_date']}|{len(m['users'])}|\" \\\n"
        "      f\"{m['users'][0]['email'] if m['users'] else '-'}|{m['previous_submissions']}\"\n"
        "json.dump({'score': 1, 'output': out}, open('/autograder/results/results.json', 'w'))"
        "\nEOF\n"
    )
    package = load_package(make_package(tmp_path, script, extra="points = 2"))
    report = grade(package, CORRECT, backend)
    assert report.tests[0].output == "G|2.0|None|0|-|[]"
    known = {"id": 7, "users": [{"id": 3, "name": "Ada", "email": "ada@example.com"}],
             "assignment": {"due_date": "2026-12-24T23:59:00+00:00"}}
    report = grade(package, CORRECT, backend, metadata=known)
    assert report.tests[0].output == "G|2.0|2026-12-24T23:59:00+00:00|1|ada@example.com|[]"
