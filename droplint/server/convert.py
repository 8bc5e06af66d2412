"""droplint's findings, fixes and sites as LSP objects: pure functions, no server state.

Positions: droplint counts lines and columns from 1 in Unicode code points, end exclusive;
LSP counts from 0 in the client's position encoding (UTF-16 unless negotiated). Ranges are
built here in code points (pygls' ServerTextRange) and converted by the document's
PositionCodec in the server.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from lsprotocol import types as lsp
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from ..report import Edit, Finding, Site

SOURCE = "droplint"
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
            "info": lsp.DiagnosticSeverity.Information}
UNNECESSARY = {"DL910"}  # an unused suppression comment: shown faded, as ruff shows RUF100
HOVER_ROWS = 10  # mask picture rows shown in a hover
KEYWORDS = ("dropout", "recurrent_dropout")


def _line_len(lines: list[str], row: int) -> int:
    return len(lines[row].rstrip("\r\n")) if 0 <= row < len(lines) else 0


def point(lines: list[str], line: int | None, column: int | None,
          end: bool = False) -> ServerTextPosition:
    """A droplint (1-based) line/column -> 0-based code points; an unknown column is the
    line's start (or its end when `end`)."""
    row = max((line or 1) - 1, 0)
    if column is None:
        return ServerTextPosition(row, _line_len(lines, row) if end else 0)
    return ServerTextPosition(row, max(column - 1, 0))


def finding_range(f: Finding, lines: list[str]) -> ServerTextRange:
    start = point(lines, f.line, f.column)
    if f.end_line is None:
        stop = ServerTextPosition(start.line, max(_line_len(lines, start.line), start.character))
    else:
        stop = point(lines, f.end_line, f.end_column, end=True)
    return ServerTextRange(start, max(start, stop))


def edit_range(e: Edit, lines: list[str]) -> ServerTextRange:
    return ServerTextRange(point(lines, e.line, e.column), point(lines, e.end_line, e.end_column))


def rule_url(code: str) -> str | None:
    """The rule's documentation: SARIF's helpUri when the project has a public home, else the
    installed rule module (render/sarif.rule_doc_uri)."""
    from droplint.rules import BY_CODE

    from ..render.sarif import rule_doc_uri

    rule = BY_CODE.get(code)
    return rule_doc_uri(rule) if rule is not None else None


def diagnostic(f: Finding, rng: lsp.Range) -> lsp.Diagnostic:
    url = rule_url(f.code)
    data = {"name": f.name}
    if f.fix is not None:
        data["fix"] = f.fix.applicability
    message = f"{f.message}\n{f.help}" if f.help else f.message  # the editor shows both
    return lsp.Diagnostic(
        range=rng, message=message, severity=SEVERITY[f.severity.value], code=f.code,
        code_description=lsp.CodeDescription(href=url) if url else None, source=SOURCE,
        tags=[lsp.DiagnosticTag.Unnecessary] if f.code in UNNECESSARY else None, data=data)


def action_title(f: Finding) -> str:
    """`Fix: ...` for a safe fix, `Unsafe fix: ...` otherwise (ruff's wording)."""
    label = "Fix" if f.fix.applicability == "safe" else "Unsafe fix"
    return f"{label}: {f.fix.description} ({f.code})"


def with_newlines(content: str, newline: str) -> str:
    return content if newline == "\n" else content.replace("\r\n", "\n").replace("\n", newline)


def newline_of(text: str) -> str:
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def text_end(lines: list[str]) -> ServerTextPosition:
    """The position just after the last character of a document split into `lines`."""
    if not lines:
        return ServerTextPosition(0, 0)
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return ServerTextPosition(len(lines), 0)
    return ServerTextPosition(len(lines) - 1, len(last))


# --- hover: which site is under the cursor ----------------------------------------------------

def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """The tokens of `text`, as far as it tokenizes (a document being typed may not)."""
    out: list[tokenize.TokenInfo] = []
    try:
        out.extend(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return out


@dataclass(frozen=True)
class Extent:
    """[start, end) in (1-based line, 0-based column) code points, as tokenize counts."""

    start: tuple[int, int]
    end: tuple[int, int]

    def __contains__(self, pos: tuple[int, int]) -> bool:
        return self.start <= pos <= self.end


def _close(tokens: list[tokenize.TokenInfo], i: int) -> int:
    """Index of the bracket closing the one at `i` (the last token when unclosed)."""
    depth = 0
    for j in range(i, len(tokens)):
        s = tokens[j].string
        if tokens[j].type == tokenize.OP and s in "([{":
            depth += 1
        elif tokens[j].type == tokenize.OP and s in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def call_extent(tokens: list[tokenize.TokenInfo], line: int, col0: int) -> tuple[int, int] | None:
    """Token indexes (first, last) of the call `name.attr(...)` starting at (line, col0)."""
    first = next((i for i, t in enumerate(tokens) if t.start == (line, col0)), None)
    if first is None:
        return None
    i = first
    while i + 2 < len(tokens) and tokens[i + 1].string == "." and tokens[i + 2].type == tokenize.NAME:
        i += 2
    if i + 1 < len(tokens) and tokens[i + 1].string == "(":
        return first, _close(tokens, i + 1)
    return first, i


def keyword_extents(tokens: list[tokenize.TokenInfo], first: int, last: int, name: str
                    ) -> list[Extent]:
    """`name=value` keyword arguments between token indexes first..last (any depth)."""
    out = []
    for i in range(first, last):
        t = tokens[i]
        if t.type == tokenize.NAME and t.string == name and tokens[i + 1].string == "=" \
                and (i == 0 or tokens[i - 1].string in "(,"):
            j, depth = i + 2, 0
            while j < last:
                s = tokens[j].string
                if tokens[j].type == tokenize.OP and s in "([{":
                    depth += 1
                elif tokens[j].type == tokenize.OP and s in ")]}":
                    if depth == 0:
                        break
                    depth -= 1
                elif s == "," and depth == 0:
                    break
                j += 1
            out.append(Extent(t.start, tokens[max(j - 1, i + 1)].end))
    return out


def sites_at(text: str, sites: list[Site], line: int, col0: int) -> list[Site]:
    """The sites a hover at (1-based line, 0-based code-point column) is about: the dropout
    call under the cursor (the innermost), or the `dropout=` / `recurrent_dropout=` argument
    under it, or every dropout argument of the recurrent layer under it."""
    tokens = _tokens(text)
    pos = (line, col0)
    hits: list[tuple[Site, Extent, tuple[int, int]]] = []
    for s in sites:
        if s.line is None or s.column is None:
            continue
        span = call_extent(tokens, s.line, s.column - 1)
        if span is None:
            continue
        ext = Extent(tokens[span[0]].start, tokens[span[1]].end)
        if pos in ext:
            hits.append((s, ext, span))
    if not hits:
        return []
    for s, _ext, (first, last) in hits:  # on the keyword argument itself
        if s.argument and any(pos in k for k in keyword_extents(tokens, first, last, s.argument)):
            return [h[0] for h in hits if h[0].argument == s.argument
                    and h[1] == _ext]
    inner = max(h[1].start for h in hits)
    here = [h[0] for h in hits if h[1].start == inner]
    plain = [s for s in here if not s.argument]
    return plain or here


def _shape(shape) -> str:
    if shape is None:
        return "unknown"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _small_picture(lines: list[str]) -> list[str]:
    """A picture with at most HOVER_ROWS grid rows (the truncation note says so)."""
    grid = [i for i, line in enumerate(lines) if "│" in line]
    if len(grid) <= HOVER_ROWS:
        return lines
    cut = grid[HOVER_ROWS:]
    out = [line for i, line in enumerate(lines) if i not in cut]
    note = next((i for i, line in enumerate(out) if line.startswith("truncated: ")), None)
    if note is not None and re.search(r"first \d+ of \d+ (timestep|position)s", out[note]):
        out[note] = re.sub(r"first \d+ of", f"first {HOVER_ROWS} of", out[note], count=1)
    else:
        at = grid[HOVER_ROWS - 1] + 1
        out.insert(at, f"truncated: showing the first {HOVER_ROWS} of {len(grid)} rows drawn")
    return out


def hover_markdown(sites: list[Site], codes: dict[int, list[str]]) -> str:
    """What each site masks: the explain text and a small mask picture, as Markdown."""
    from ..render.explain import picture, site_title

    blocks = []
    for s in sites:
        facts = [f"**{site_title(s)}**: input `{_shape(s.input_shape)}` → mask "
                 f"`{_shape(s.mask_shape)}`" + (f" (Keras {s.keras})" if s.keras else "")]
        if s.description:
            facts.append(f"drops {s.description}.")
        if codes.get(s.id):
            facts.append("findings: " + ", ".join(codes[s.id]))
        blocks.append("\n\n".join(facts) + "\n\n```text\n"
                      + "\n".join(_small_picture(picture(s))) + "\n```")
    return "\n\n---\n\n".join(blocks)
