"""Suppression comments (STYLE.md): `# noqa`, `# noqa: DL101`, `# droplint: ignore[DL101]`
on the line where a finding starts, and `# droplint: noqa` on its own line for the file.
Codes or kebab-case names are accepted. Only real comments count (found with the tokenizer):
a `# noqa` inside a string is text, not a suppression."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[\w-]+(?:[\s,]+[\w-]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*droplint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.I)
# Python's line breaks, each line with its ending (the positions comments are found at).
LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_FILE = re.compile(r"^\s*#\s*droplint:\s*noqa(?::\s*(?P<codes>[\w-]+(?:[\s,]+[\w-]+)*))?\s*$",
                   re.I | re.M)


@dataclass
class Suppression:
    line: int
    codes: frozenset[str] | None  # None: all codes
    column: int  # where the comment starts (1-based), for --add-noqa / unused-noqa
    used: bool = False


@dataclass
class Suppressions:
    lines: dict[int, list[Suppression]] = field(default_factory=dict)
    file_codes: frozenset[str] | None = frozenset()  # None: the whole file is suppressed

    def match(self, line: int | None, code: str, name: str) -> bool:
        """True (and the comment marked used) when a finding at `line` is suppressed."""
        if self.file_codes is None or code in self.file_codes or name in self.file_codes:
            return True
        for s in self.lines.get(line or 0, ()):
            if s.codes is None or code in s.codes or name in s.codes:
                s.used = True
                return True
        return False


def _split(codes: str | None) -> frozenset[str] | None:
    if not codes:
        return None
    return frozenset(c.upper() if c[:2].upper() == "DL" else c.lower()
                     for c in re.split(r"[\s,]+", codes.strip()) if c)


def _comments(text: str):
    """(line, column0, comment, text before it on the line) for every comment of `text`.
    Text the tokenizer cannot read (it will be a DL900 anyway) falls back to every `#`."""
    import io
    import tokenize

    lines = re.split(r"\r\n|\r|\n", text)  # Python's line breaks (not form feeds)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                line, col = tok.start
                yield line, col, tok.string, lines[line - 1][:col]
    except (tokenize.TokenError, SyntaxError, IndexError):
        for lineno, line in enumerate(lines, 1):
            col = line.find("#")
            if col >= 0:
                yield lineno, col, line[col:], line[:col]


def parse(text: str) -> Suppressions:
    out = Suppressions()
    if "noqa" not in text and "droplint" not in text:
        return out
    file_codes: set[str] = set()
    for lineno, col, comment, before in _comments(text):
        whole = _FILE.match(comment) if not before.strip() else None
        if whole:
            codes = _split(whole.group("codes"))
            if codes is None:
                out.file_codes = None
                return Suppressions(file_codes=None)
            file_codes |= codes
            continue
        for pattern in (_IGNORE, _NOQA):
            for m in pattern.finditer(comment):
                out.lines.setdefault(lineno, []).append(
                    Suppression(lineno, _split(m.group("codes")), col + m.start() + 1))
    out.file_codes = frozenset(file_codes)
    return out


def comment_at(line: str, s: Suppression) -> re.Match | None:
    """The suppression comment `s` on its `line` as a match (its `codes` group), or None."""
    for pattern in (_IGNORE, _NOQA):
        m = pattern.match(line, s.column - 1)
        if m:
            return m
    return None
