"""Comparing a program's stdout with the expected output of an I/O test."""

from __future__ import annotations

SHOW_CHARS = 60


def check_output(actual: bytes, expected: str) -> tuple[bool, str]:
    """Compare ``actual`` stdout with ``expected``, tolerant of trailing whitespace.

    Trailing whitespace on each line (spaces, tabs, a Windows ``\\r``) and trailing blank lines
    are ignored; anything else must match exactly. ``actual`` is decoded as UTF-8, undecodable
    bytes becoming U+FFFD. Returns ``(passed, explanation)``, the explanation naming the first
    line that differs, e.g. ``line 2: expected '5', got '6'`` (empty when passed).
    """
    got = _lines(actual.decode("utf-8", errors="replace"))
    want = _lines(expected)
    if got == want:
        return True, ""
    for number, (g, w) in enumerate(zip(got, want, strict=False), start=1):
        if g != w:
            return False, f"line {number}: expected {_show(w)}, got {_show(g)}"
    if len(got) < len(want):
        missing = len(want) - len(got)
        more = f" ({missing} lines missing)" if missing > 1 else ""
        return False, (
            f"line {len(got) + 1}: expected {_show(want[len(got)])}, got the end of the output"
            + more
        )
    extra = len(got) - len(want)
    more = f" ({extra} extra lines)" if extra > 1 else ""
    return (
        False,
        f"line {len(want) + 1}: expected the end of the output, got {_show(got[len(want)])}" + more,
    )


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _show(line: str) -> str:
    if len(line) > SHOW_CHARS:
        line = line[:SHOW_CHARS] + "..."
    return repr(line)


__all__ = ["check_output"]
