"""Text that came from a student's program, made safe for where it goes next.

Two destinations need care:

- The database. Postgres text (and jsonb) columns refuse NUL (``\\x00``), and psycopg cannot
  encode a lone surrogate (which a ``surrogateescape`` decode leaves behind); either made a
  program's output unstorable and the submission ``failed_infra``. SQLite stores both, so the
  embedded default never showed it.
- A terminal. Escape sequences (ESC ``[``...), carriage returns and bidirectional overrides in
  a program's output can rewrite or reorder what a teacher reads on the CLI.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"  # what a lenient UTF-8 decode shows for bad bytes, too
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# C0 controls but newline and tab, DEL and C1 controls (category Cc); bidirectional embeddings,
# overrides and isolates and the marks that steer them (Trojan Source, CVE-2021-42574): invisible,
# and they reorder the text shown after them; lone surrogates, which a terminal cannot show.
_UNSAFE_FOR_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def storable_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD, so Postgres stores it."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control character except newline and tab written as an escape
    (ESC as ``\\x1b``, CR as ``\\x0d``, RLO as ``\\u202e``): C0 and C1 controls, DEL, bidi
    controls. Printable text, non-ASCII letters included, is unchanged."""
    return _UNSAFE_FOR_TERMINAL.sub(_escape, text)
