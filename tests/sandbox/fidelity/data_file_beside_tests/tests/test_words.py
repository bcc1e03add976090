"""The test passes the student a data file that ships beside it, by a path built from __file__."""

from pathlib import Path

import solution

DATA = Path(__file__).parent / "data" / "words.txt"


def test_counts_the_words_in_the_file():
    assert solution.count_words(str(DATA)) == 3


def test_longest_word_from_a_path_object():
    assert solution.longest_word(DATA) == "banana"
