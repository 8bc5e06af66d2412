"""Writing edited cell sources back into a notebook file without re-serializing it.

`--fix` and `--add-noqa` change a few lines of a few code cells. Dumping the whole JSON again
would change bytes nobody edited: indentation, line endings (CRLF), `\\u00ed` or `\\/` escapes,
number spellings (`1E100`, `1.00`), key spacing. Instead a small scanner (`source_spans`)
records the byte span of each cell's `source` value in the file as read, and `splice_sources`
replaces only those spans with the new source encoded in the same style as the value it
replaces:

- a list of lines stays a list of lines (the whitespace around and between its items copied
  from that list, or from another cell's list when it was empty), one string stays one string;
- non-ASCII is escaped (`\\u00ed`) only when the file escapes it, and `/` is written `\\/` only
  when the replaced value did.

The result is parsed once more and must give exactly the new sources, else nothing is spliced
(None). Everything outside the replaced values is byte-identical to the input.
"""
from __future__ import annotations

import json
import re

_WS = re.compile(rb"[ \t\r\n]*")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_SCALAR = re.compile(rb"[^,\]}\s]+")
# A \uXXXX escape of a non-ASCII character, not preceded by an escaped backslash.
_NON_ASCII_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]|[1-9a-fA-F][0-9a-fA-F]{2})"
    rb"[0-9a-fA-F]")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


class _Bad(ValueError):
    """Not the JSON the scanner expects (the caller then splices nothing)."""


def _ws(b: bytes, i: int) -> int:
    return _WS.match(b, i).end()


def _skip_value(b: bytes, i: int) -> int:
    """The end of the JSON value starting at `i` (iterative: any nesting depth)."""
    if i >= len(b):
        raise _Bad("end of data")
    if b[i:i + 1] == b'"':
        m = _STRING.match(b, i)
        if m is None:
            raise _Bad("unterminated string")
        return m.end()
    if b[i:i + 1] not in (b"{", b"["):
        m = _SCALAR.match(b, i)
        if m is None:
            raise _Bad("no value")
        return m.end()
    depth = 0
    while i < len(b):
        c = b[i:i + 1]
        if c == b'"':
            m = _STRING.match(b, i)
            if m is None:
                raise _Bad("unterminated string")
            i = m.end()
            continue
        if c in (b"{", b"["):
            depth += 1
        elif c in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise _Bad("unterminated container")


def _items(b: bytes, i: int) -> tuple[list[tuple[int, int]], int]:
    """The (start, end) of each element of the array at `i`, and the array's end."""
    if b[i:i + 1] != b"[":
        raise _Bad("not an array")
    spans: list[tuple[int, int]] = []
    i = _ws(b, i + 1)
    if b[i:i + 1] == b"]":
        return spans, i + 1
    while True:
        end = _skip_value(b, i)
        spans.append((i, end))
        i = _ws(b, end)
        c = b[i:i + 1]
        if c == b"]":
            return spans, i + 1
        if c != b",":
            raise _Bad("bad array")
        i = _ws(b, i + 1)


def _members(b: bytes, i: int) -> tuple[dict[str, tuple[int, int, int]], int]:
    """{key: (key start, value start, value end)} of the object at `i` (the last of duplicate
    keys wins, as in json.loads), and the object's end."""
    if b[i:i + 1] != b"{":
        raise _Bad("not an object")
    out: dict[str, tuple[int, int, int]] = {}
    i = _ws(b, i + 1)
    if b[i:i + 1] == b"}":
        return out, i + 1
    while True:
        m = _STRING.match(b, i)
        if m is None:
            raise _Bad("bad key")
        try:
            key = json.loads(m.group().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _Bad("bad key") from None
        i = _ws(b, m.end())
        if b[i:i + 1] != b":":
            raise _Bad("no colon")
        start = _ws(b, i + 1)
        end = _skip_value(b, start)
        out[key] = (m.start(), start, end)
        i = _ws(b, end)
        c = b[i:i + 1]
        if c == b"}":
            return out, i + 1
        if c != b",":
            raise _Bad("bad object")
        i = _ws(b, i + 1)


def _body_start(raw: bytes) -> int:
    return _ws(raw, 3 if raw.startswith(b"\xef\xbb\xbf") else 0)


def source_spans(raw: bytes) -> list[tuple[int, int, int] | None]:
    """For each cell of the notebook file `raw`, in order: (key start, value start, value end)
    of its `source` member, or None (no source, or the cell is not an object). Raises
    ValueError when `raw` is not a notebook the scanner can read."""
    top, _ = _members(raw, _body_start(raw))
    if "cells" not in top:
        raise _Bad("no cells")
    cells, _ = _items(raw, top["cells"][1])
    spans: list[tuple[int, int, int] | None] = []
    for start, _end in cells:
        if raw[start:start + 1] != b"{":
            spans.append(None)
            continue
        members, _ = _members(raw, start)
        spans.append(members.get("source"))
    return spans


# --- encoding a source in the style of the value it replaces -------------------------------

def escapes_non_ascii(raw: bytes) -> bool:
    """Whether the file writes non-ASCII characters as \\uXXXX escapes (json ensure_ascii):
    yes when it has such an escape and no raw non-ASCII byte past a BOM."""
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    return body.isascii() and _NON_ASCII_ESCAPE.search(body) is not None


def _string(text: str, ensure_ascii: bool, slash: bool) -> bytes:
    try:
        out = json.dumps(text, ensure_ascii=ensure_ascii).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate read from a \ud800 escape
        out = json.dumps(text, ensure_ascii=True).encode("ascii")
    return out.replace(b"/", b"\\/") if slash else out


def _list_layout(raw: bytes, value: tuple[int, int]) -> tuple[bytes, bytes, bytes] | None:
    """(after `[`, between items, before `]`) of the list at `value`; None when it has no
    items to learn from."""
    items, _ = _items(raw, value[0])
    if not items:
        return None
    opening = raw[value[0] + 1:items[0][0]]
    between = raw[items[0][1]:items[1][0]] if len(items) > 1 else b"," + opening
    closing = raw[items[-1][1]:value[1] - 1]
    return opening, between, closing


def _guess_layout(raw: bytes, key_start: int) -> tuple[bytes, bytes, bytes]:
    """A list layout for an empty list whose key starts at `key_start`: Jupyter's (one item a
    line, one more level of indentation than the key) when the key starts its own line."""
    line_start = raw.rfind(b"\n", 0, key_start) + 1
    indent = raw[line_start:key_start]
    if line_start == 0 or indent.strip(b" \t"):
        return b"", b", ", b""
    nl = b"\r\n" if raw[line_start - 2:line_start] == b"\r\n" else b"\n"
    unit = b"\t" if indent.startswith(b"\t") else b" "
    return nl + indent + unit, b"," + nl + indent + unit, nl + indent


def encode_source(raw: bytes, span: tuple[int, int, int], text: str, ensure_ascii: bool,
                  template: tuple[bytes, bytes, bytes] | None) -> bytes:
    """The JSON of the new source `text` for the value at `span` (key start, value start,
    value end), in that value's style."""
    key_start, start, end = span
    old = raw[start:end]
    slash = b"\\/" in old
    if not old.startswith(b"["):
        return _string(text, ensure_ascii, slash)
    lines = _LINE.findall(text)
    if not lines:
        return b"[]"
    layout = _list_layout(raw, (start, end)) or template or _guess_layout(raw, key_start)
    opening, between, closing = layout
    items = between.join(_string(line, ensure_ascii, slash) for line in lines)
    return b"[" + opening + items + closing + b"]"


def splice_sources(raw: bytes, sources: dict[int, str]) -> bytes | None:
    """`raw` with the `source` of each cell index (0-based) in `sources` replaced by the new
    text, every other byte kept; None when the file cannot be scanned or the result would not
    read back as exactly those sources."""
    try:
        spans = source_spans(raw)
        if any(i >= len(spans) or spans[i] is None for i in sources):
            return None
        ensure_ascii = escapes_non_ascii(raw)
        template = next((layout for span in spans if span is not None
                         and raw[span[1]:span[1] + 1] == b"["
                         for layout in [_list_layout(raw, span[1:])] if layout), None)
        out, at = [], 0
        for i in sorted(sources):
            _key, start, end = spans[i]
            out += [raw[at:start], encode_source(raw, spans[i], sources[i], ensure_ascii,
                                                 template)]
            at = end
        out.append(raw[at:])
        data = b"".join(out)
    except (_Bad, IndexError):
        return None
    return data if _reads_back(data, sources) else None


def _reads_back(data: bytes, sources: dict[int, str]) -> bool:
    try:
        cells = json.loads(data.decode("utf-8-sig"))["cells"]
        for i, text in sources.items():
            got = cells[i]["source"]
            if ("".join(got) if isinstance(got, list) else got) != text:
                return False
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return False
    return True
