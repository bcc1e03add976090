"""Word report: a student's solution (collections.Counter, pathlib)."""
import sys
from collections import Counter
from pathlib import Path

PUNCTUATION = ".,;:!?"


def count_words(path):
    text = Path(path).read_text().lower()
    words = [w.strip(PUNCTUATION) for w in text.split()]
    return dict(Counter(w for w in words if w))


def write_report(counts, path):
    ordered = sorted(counts, key=lambda w: (-counts[w], w))
    lines = [f"{w} {counts[w]}\n" for w in ordered]
    Path(path).write_text("".join(lines))


if __name__ == "__main__":
    source, target = sys.argv[1], sys.argv[2]
    write_report(count_words(source), target)
