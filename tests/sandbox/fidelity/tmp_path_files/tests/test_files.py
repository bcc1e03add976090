"""A file made in tmp_path read by the student's code, and a file it writes there."""

import solution


def test_counts_the_words_of_a_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("one two\nthree\n")
    assert solution.count_words(str(path)) == 3


def test_writes_a_report(tmp_path):
    path = tmp_path / "out.txt"
    solution.write_report(str(path), {"a": 1})
    assert path.read_text() == "a=1\n"
