"""The older tmpdir fixture and a module-scoped folder from tmp_path_factory."""

import pytest
import solution


@pytest.fixture(scope="module")
def words_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("pear apple fig apple\n")
    return path


def test_distinct_words(words_file):
    assert solution.distinct(str(words_file)) == ["apple", "fig", "pear"]


def test_appends_a_line(tmpdir):
    log = tmpdir.join("log.txt")
    log.write("first\n")
    solution.append_line(str(log), "second")
    assert log.read() == "first\nsecond\n"
