"""The test moves into tmp_path; the student's code reads and writes files by relative name."""

import solution


def test_reads_scores_by_relative_name(tmp_path, monkeypatch):
    (tmp_path / "scores.csv").write_text("ana,3\nbo,5\n")
    monkeypatch.chdir(tmp_path)
    assert solution.best("scores.csv") == "bo"


def test_writes_summary_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    solution.summarize([3, 4, 5])
    assert (tmp_path / "summary.txt").read_text().split() == ["min=3", "max=5", "mean=4.0"]
