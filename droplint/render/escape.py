"""Text from checked files (source lines, names, messages that quote them) made safe to print.

A terminal obeys control characters: `ESC ]0;...` sets the window title, `ESC [2J` clears the
screen, bidi overrides reorder what is shown (Trojan Source). `safe_text` replaces each such
character by ONE visible character, so columns (the caret lines of code frames) stay aligned:
C0 controls by their Unicode control picture (ESC -> ␛, CR -> ␍), DEL by ␡, C1 controls,
bidi controls and line/paragraph separators by U+FFFD. Tab, and newline where lines are kept,
pass through.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only where text is rendered
    from rich.text import Text

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_REPLACEMENT = 0xFFFD


def _table(keep: str) -> dict[int, int]:
    table = {c: 0x2400 + c for c in range(0x20) if chr(c) not in keep}
    table[0x7F] = 0x2421
    table.update({c: _REPLACEMENT for c in range(0x80, 0xA0)})
    table.update({ord(ch): _REPLACEMENT for ch in _BIDI + "\u2028\u2029"})
    return table


_KEEP_LINES = _table("\t\n")
_ONE_LINE = _table("\t")


def safe_text(text: str, keep_newlines: bool = True) -> str:
    """`text` with every control character replaced by one visible character."""
    return text.translate(_KEEP_LINES if keep_newlines else _ONE_LINE)


def safe_rich(text: Text) -> Text:
    """A rich Text escaped in place (same length: styles stay where they were)."""
    plain = text.plain
    escaped = safe_text(plain)
    if escaped != plain:
        text.plain = escaped
    return text


_JSON_UNSAFE = re.compile("[\x7f-\x9f" + _BIDI + "\u2028\u2029]")


def json_safe(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with DEL, C1, bidi controls and
    line/paragraph separators written as \\uXXXX escapes (JSON already escapes C0): the data
    read back is unchanged, and none of them reaches a terminal that shows the JSON."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
