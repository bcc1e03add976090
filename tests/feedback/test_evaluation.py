"""The feedback evaluation corpus and ``manage.py evaluate_feedback``."""

from __future__ import annotations

import difflib
import json
import shutil
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from feedback.engines import GenerationStats, Sampling
from feedback.evaluation import (
    DEFAULT_MANIFEST,
    CorpusError,
    evaluate,
    load_manifest,
    spread,
)
from feedback.validation import Budget
from feedback.voting import CATEGORIES
from sandbox import get_backend
from sandbox.grade import grade
from sandbox.package import load_package

CORPUS = DEFAULT_MANIFEST.parent


def test_corpus_ships_at_least_30_variants_over_several_assignments_and_categories() -> None:
    variants = load_manifest()
    assert len(variants) >= 30
    assert len({v.package for v in variants}) >= 5
    assert set(Counter(v.category for v in variants)) >= set(CATEGORIES)
    assert len({v.file for v in variants}) == len(variants)


def test_every_variant_changes_its_bug_line_compared_with_the_solution() -> None:
    """The known bug lines are where the variant differs from the solution: a line it rewrote
    or added, or for a missing statement the line just before or just after the gap; and every
    difference (each bug of a two-bug variant) has one of them."""
    for v in load_manifest():
        solution = (CORPUS / "solutions" / f"{v.package.name}.py").read_text().splitlines()
        buggy = v.file.read_text().splitlines()
        hunks: list[set[int]] = []
        matcher = difflib.SequenceMatcher(None, solution, buggy, autojunk=False)
        for op, _, _, j1, j2 in matcher.get_opcodes():
            if op in ("replace", "insert"):
                hunks.append(set(range(j1 + 1, j2 + 1)))
            elif op == "delete":
                hunks.append({n for n in (j1, j1 + 1) if 1 <= n <= len(buggy)})
        changed = set().union(*hunks)
        for line in v.lines:
            assert line in changed, f"{v.name}: bug line {line} not among changed {changed}"
        for hunk in hunks:
            assert hunk & set(v.lines), f"{v.name}: change at {sorted(hunk)} not in {v.lines}"


def test_a_line_may_be_a_list_of_acceptable_lines_the_first_primary(tmp_path: Path) -> None:
    (tmp_path / "packages" / "p").mkdir(parents=True)
    (tmp_path / "packages" / "p" / "assignment.toml").write_text("")
    (tmp_path / "x.py").write_text("a = 1\nb = 2\nprint(a + b)\n")
    entry = '[[variants]]\nfile = "x.py"\npackage = "p"\nline = {}\ncategory = "other"\n'
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(entry.format("[3, 1]") + entry.format("2"))
    two, one = load_manifest(manifest)
    assert (two.lines, two.line) == ((3, 1), 3)
    assert (one.lines, one.line) == ((2,), 2)
    for bad in ("[]", "[1, 4]", "[0]", '["2"]', "[2, 2]", "true", "[true]", "2.0"):
        manifest.write_text(entry.format("1") + entry.format(bad))
        with pytest.raises(CorpusError, match=r"variants\[1\]: line"):
            load_manifest(manifest)


def test_a_malformed_manifest_is_refused_with_the_entry_named(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.toml"
    bad.write_text('[[variants]]\nfile = "x.py"\npackage = "p"\nline = 1\ncategory = "typo"\n')
    with pytest.raises(CorpusError, match=r"variants\[0\]"):
        load_manifest(bad)


def test_a_limit_spreads_the_subset_over_the_assignments() -> None:
    variants = load_manifest()
    packages = {v.package for v in variants}
    picked = spread(variants, len(packages))
    assert {v.package for v in picked} == packages
    assert spread(variants, 0) == variants
    assert len(spread(variants, 1000)) == len(variants)


@pytest.mark.sandbox
def test_every_variant_fails_a_test_and_every_solution_passes_them_all() -> None:
    backend = get_backend("bubblewrap")
    variants = load_manifest()
    for package_dir in sorted({v.package for v in variants}):
        package = load_package(package_dir)
        code = (CORPUS / "solutions" / f"{package_dir.name}.py").read_bytes()
        report = grade(package, {package.submission: code}, backend)
        assert all(t.passed for t in report.tests), (package_dir.name, report.tests)
    for v in variants:
        package = load_package(v.package)
        report = grade(package, {package.submission: v.file.read_bytes()}, backend)
        assert report.gradable and not all(t.passed for t in report.tests), v.name


def _tiny_corpus(tmp_path: Path) -> Path:
    """sum_list with four entries whose SBFL answer is known: Ochiai puts line 4 first for the
    wrong operator (only the failing tests run the loop body) and ties lines 1.. for the others,
    where the first statement (line 2) beats the def line."""
    shutil.copytree(CORPUS / "packages" / "sum_list", tmp_path / "packages" / "sum_list")
    entries = [
        ("02_wrong_operator.py", 4, "wrong_operator"),  # SBFL top line 4: hit
        ("01_off_by_one.py", 3, "off_by_one"),  # SBFL top line 2: miss
        ("03_wrong_return.py", 5, "wrong_return"),  # SBFL top line 2: miss
        ("02_wrong_operator.py", 4, "wrong_operator"),  # a hit, left out by --limit 3
    ]
    text = []
    for name, line, category in entries:
        shutil.copy(CORPUS / "variants" / "sum_list" / name, tmp_path / name)
        text += [
            "[[variants]]",
            f'file = "{name}"',
            'package = "sum_list"',
            f"line = {line}",
            f'category = "{category}"',
        ]
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("\n".join(text) + "\n")
    return manifest


@pytest.mark.sandbox
def test_evaluate_feedback_without_a_model_scores_sbfl_and_the_checked_search(
    tmp_path: Path,
) -> None:
    manifest = _tiny_corpus(tmp_path)
    out = StringIO()
    call_command(
        "evaluate_feedback", "--no-model", "--limit", "3", "--manifest", str(manifest),
        "--json", stdout=out,
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert data["variants"] == 3 and data["engine"] == "none"
    rows = {r["method"]: r for r in data["methods"]}
    assert set(rows) == {"sbfl", "search"}
    assert rows["sbfl"]["top1_line"] == pytest.approx(1 / 3, abs=1e-3)
    assert rows["sbfl"]["run_agreement"] == 1.0
    assert [c["sbfl"][0][0] for c in data["cases"]] == [4, 2, 2]
    # each of the three bugs has a one-line fix the search finds and the tests confirm
    search = rows["search"]
    assert search["top1_line"] == 1.0 and search["coverage"] == 1.0
    assert search["precision"] == 1.0 and search["leak_rate"] == 0.0
    assert [c["search"][0] for c in data["cases"]] == [[4, "validated"], [3, "validated"],
                                                       [5, "validated"]]

    table = StringIO()
    call_command(
        "evaluate_feedback", "--no-model", "--limit", "3", "--manifest", str(manifest),
        stdout=table,
    )  # fmt: skip
    text = table.getvalue()
    assert "3 variants" in text and "fault localization" in text and "33.3%" in text
    assert "repair search" in text and "100.0%" in text


class ScriptedEngine:
    """Answers the K samples of each call from a script (a unit test of the scoring around the
    model; the real model runs in ``manage.py evaluate_feedback``, reported in the README)."""

    name = "scripted"
    model = "scripted"
    needs_answer_prefix = False

    def __init__(self, samples: list[tuple[int, str]]) -> None:
        self.samples = samples
        self.stats = GenerationStats()

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        self.stats.new_tokens += n
        self.stats.seconds += 0.5
        return [
            [json.dumps({"line": ln, "category": "wrong_operator", "steps": ["x"],
                         "repair": repair}) for ln, repair in self.samples[:n]]
            for _ in prompts
        ]


@pytest.mark.sandbox
def test_a_checked_minority_beats_an_unchecked_model_majority(tmp_path: Path) -> None:
    variants = load_manifest(_tiny_corpus(tmp_path))[:1]  # `result -= n` on line 4
    # Two samples blame line 2 with a repair that fixes nothing; one blames line 4 with the fix.
    engine = ScriptedEngine([(2, "    result = 1"), (2, "    result = 1"),
                             (4, "        result += n")])
    result = evaluate(
        variants,
        backend=get_backend("bubblewrap"),
        engine=engine,
        samples=3,
        runs=2,
        sampling=Sampling(max_new_tokens=8),
        budget=Budget(seconds=300),  # what the checks find, however busy the machine
    )
    rows = {r["method"]: r for r in result.rows()}
    assert rows["model"]["top1_line"] == 0.0  # the unchecked majority names line 2
    assert rows["vote"]["top1_line"] == 1.0 and rows["vote"]["run_agreement"] == 1.0
    assert rows["vote"]["precision"] == 1.0 and rows["vote"]["leak_rate"] == 0.0
    assert rows["search"]["top1_line"] == 1.0
    assert result.tokens_per_second == pytest.approx(6.0)


def test_run_to_run_counts_only_named_lines_and_same_outcome_counts_steady_unverified_ones():
    from feedback.evaluation import MethodScore, Prediction

    score = MethodScore("search")
    score.predictions = [
        [Prediction(3, verification="validated"), Prediction(3, verification="validated")],
        [Prediction(None), Prediction(None)],  # steady: no line either time
        [Prediction(4, verification="validated"), Prediction(5, verification="validated")],
        [Prediction(2, verification="validated"), Prediction(2, verification="partial")],
    ]
    assert score.agreement() == 0.5  # lines 3/3 and 2/2 agree; none/none names no line
    assert score.same_outcome() == 0.5  # 3/3 validated twice, and none twice
