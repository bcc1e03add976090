"""Text from student programs made safe for Postgres and for a terminal (grader/lib/text.py)."""

from __future__ import annotations

from grader.lib.text import storable_text, terminal_safe


def test_storable_text_replaces_nul_and_lone_surrogates_and_keeps_the_rest():
    assert storable_text("a\x00b\udcffc ✓ é\n\t\x1b") == "a\ufffdb\ufffdc ✓ é\n\t\x1b"
    assert storable_text("plain") == "plain"


def test_terminal_safe_escapes_escape_sequences_carriage_returns_and_bidi_overrides():
    shown = terminal_safe("5\x00\x1b[2J\rok\x07\x7f\x9b\u202eevil\u2066\udcff")
    assert shown == "5\\x00\\x1b[2J\\x0dok\\x07\\x7f\\x9b\\u202eevil\\u2066\\udcff"
    assert all(c.isprintable() for c in shown)


def test_terminal_safe_keeps_newlines_tabs_and_non_ascii_letters():
    assert terminal_safe("line 1\n\tgot 'é ✓ 日本'") == "line 1\n\tgot 'é ✓ 日本'"
