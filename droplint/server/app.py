"""`droplint server`: the language server (pygls, LSP over stdio).

- Diagnostics on open and save at once, on change after DEBOUNCE seconds of quiet; one per
  finding, with code, severity, range, source "droplint" and the rule's doc link.
- Code actions: every fix ("Fix: ..." safe, "Unsafe fix: ..."), "Add `# noqa: DLxxx`",
  and "Fix all safe droplint problems" (kind source.fixAll.droplint).
- Hover on a dropout call, an RNN or its `dropout=` / `recurrent_dropout=`: what it masks
  (the explain text) and a small picture of the mask.
- Settings: the nearest pyproject.toml with [tool.droplint] above the document.
- Notebooks (LSP 3.17 notebookDocument/*): the code cells are checked together as one program,
  exactly as `droplint check` checks an .ipynb file; each finding is published on its cell.

Only droplint's source side is imported: never TensorFlow, Keras or the user's code.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextRange

from .. import __version__
from ..report import Finding
from .. import editor
from . import convert

DEBOUNCE = 0.3
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.droplint"
FIX_ALL_TITLE = "Fix all safe droplint problems"
NOTEBOOK_SYNC = lsp.NotebookDocumentSyncOptions(
    notebook_selector=[lsp.NotebookDocumentFilterWithCells(
        cells=[lsp.NotebookCellLanguage(language="python")], notebook="*")],
    save=True)


class DroplintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("droplint", __version__, notebook_document_sync=NOTEBOOK_SYNC)
        self.results: dict[str, editor.Analysis] = {}  # document or notebook uri -> last check
        self.pending: dict[str, asyncio.Task] = {}
        self.published: dict[str, set[str]] = {}  # notebook uri -> cell uris with diagnostics
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="droplint")
        self.warned: set[str] = set()

    # --- settings and checking ----------------------------------------------------------

    def settings_for(self, path: str | None):
        settings, error = editor.settings_for(path, self.workspace.root_path)
        if error and error not in self.warned:
            self.warned.add(error)
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Warning, error))
        return settings

    def cells_of(self, nb: lsp.NotebookDocument) -> list[tuple[str, str, str]]:
        """(uri, kind, text) of every cell, in order."""
        out = []
        for cell in nb.cells:
            kind = "code" if cell.kind == lsp.NotebookCellKind.Code else "markdown"
            out.append((cell.document, kind, self.workspace.get_text_document(cell.document).source))
        return out

    def job(self, uri: str):
        """(key, compute) for a text document or notebook uri: `key` identifies its current
        text, `compute()` checks it (pure: safe to run in the worker thread). Settings are read
        here, in the server's thread (a broken pyproject.toml is shown to the user once)."""
        nb = self.workspace.get_notebook_document(notebook_uri=uri)
        if nb is not None:
            cells = [(kind, text) for _u, kind, text in self.cells_of(nb)]
            path = _path(uri) or "notebook.ipynb"
            settings = self.settings_for(_path(uri))
            return tuple(cells), lambda: editor.analyze_cells(cells, path, settings)
        doc = self.workspace.get_text_document(uri)
        text = doc.source
        settings = self.settings_for(doc.path)
        return text, lambda: editor.analyze_text(text, doc.path or uri, settings)

    def check(self, uri: str) -> editor.Analysis:
        """The analysis of a text document or notebook uri, recomputed if its text changed."""
        old = self.results.get(uri)
        if old is not None and old.key == self.key(uri):
            return old
        _key, compute = self.job(uri)
        self.results[uri] = result = compute()
        return result

    def key(self, uri: str) -> object:
        nb = self.workspace.get_notebook_document(notebook_uri=uri)
        if nb is not None:
            return tuple((kind, text) for _u, kind, text in self.cells_of(nb))
        return self.workspace.get_text_document(uri).source

    def owner(self, uri: str) -> tuple[str, int | None]:
        """(the uri that is checked, the 1-based cell) for a text document or a notebook cell."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        if nb is None:
            return uri, None
        cell = next(i for i, c in enumerate(nb.cells, 1) if c.document == uri)
        return nb.uri, cell

    def cell_uri(self, checked: str, cell: int | None) -> str:
        if cell is None:
            return checked
        nb = self.workspace.get_notebook_document(notebook_uri=checked)
        return nb.cells[cell - 1].document

    # --- diagnostics ----------------------------------------------------------------------

    def diagnostics(self, result: editor.Analysis, checked: str) -> dict[str, list]:
        """Diagnostics per document uri (a notebook's per cell)."""
        out: dict[str, list] = {}
        for f in result.findings:
            uri = self.cell_uri(checked, f.cell)
            out.setdefault(uri, []).append(self.to_diagnostic(f, self.workspace.get_text_document(uri)))
        return out

    def to_diagnostic(self, f: Finding, doc: TextDocument) -> lsp.Diagnostic:
        lines = list(doc.lines)
        return convert.diagnostic(f, doc.range_to_client_units(convert.finding_range(f, lines)))

    async def publish(self, uri: str) -> None:
        loop = asyncio.get_running_loop()
        nb = self.workspace.get_notebook_document(notebook_uri=uri)
        if nb is None and uri not in self.workspace.text_documents:
            return
        result = self.results.get(uri)
        if result is None or result.key != self.key(uri):
            key, compute = self.job(uri)
            result = await loop.run_in_executor(self.pool, compute)
            if key != self.key(uri):
                return  # edited meanwhile: the check scheduled by that edit publishes
            self.results[uri] = result
        by_uri = self.diagnostics(result, uri)
        targets = set(by_uri)
        if nb is not None:
            targets |= {c.document for c in nb.cells} | self.published.get(uri, set())
            self.published[uri] = set(by_uri)
        else:
            targets.add(uri)
        for target in sorted(targets):
            doc = self.workspace.text_documents.get(target)
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=target, diagnostics=by_uri.get(target, []),
                version=doc.version if doc is not None else None))

    def cancel_check(self, uri: str) -> None:
        """Cancel `uri`'s check not yet started, if any."""
        if (task := self.pending.pop(uri, None)) is not None:
            task.cancel()

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Check `uri` after `delay` seconds, replacing a check not yet started."""
        self.cancel_check(uri)

        async def later() -> None:
            if delay:
                await asyncio.sleep(delay)
            await self.publish(uri)

        self.pending[uri] = asyncio.ensure_future(later())

    def clear(self, uris) -> None:
        for uri in uris:
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _path(uri: str) -> str | None:
    from pygls.uris import to_fs_path

    return to_fs_path(uri) if uri.startswith("file:") else None


server = DroplintServer()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DroplintServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DroplintServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
def did_save(ls: DroplintServer, params: lsp.DidSaveTextDocumentParams) -> None:
    ls.results.pop(params.text_document.uri, None)  # settings may have changed: check anew
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DroplintServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.cancel_check(uri)
    ls.results.pop(uri, None)
    ls.clear([uri])


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
def nb_open(ls: DroplintServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
def nb_change(ls: DroplintServer, params: lsp.DidChangeNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri, DEBOUNCE)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_SAVE)
def nb_save(ls: DroplintServer, params: lsp.DidSaveNotebookDocumentParams) -> None:
    ls.results.pop(params.notebook_document.uri, None)
    ls.schedule(params.notebook_document.uri)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE)
def nb_close(ls: DroplintServer, params: lsp.DidCloseNotebookDocumentParams) -> None:
    uri = params.notebook_document.uri
    ls.cancel_check(uri)
    ls.results.pop(uri, None)
    ls.clear(sorted(ls.published.pop(uri, set())
                    | {c.uri for c in params.cell_text_documents}))


# --- code actions -------------------------------------------------------------------------

def _edits_by_uri(ls: DroplintServer, checked: str, cell: int | None, edits, text_of=None
                  ) -> lsp.WorkspaceEdit:
    """droplint Edits (cells: their own `cell`) -> a WorkspaceEdit on the right documents."""
    groups: dict[str, list[lsp.TextEdit]] = {}
    for e in edits:
        uri = ls.cell_uri(checked, e.cell if e.cell is not None else cell)
        doc = ls.workspace.get_text_document(uri)
        lines = list(doc.lines)
        content = convert.with_newlines(e.content, convert.newline_of(doc.source))
        groups.setdefault(uri, []).append(lsp.TextEdit(
            range=doc.range_to_client_units(convert.edit_range(e, lines)), new_text=content))
    changes = []
    for uri, text_edits in groups.items():
        doc = ls.workspace.get_text_document(uri)
        changes.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri,
                                                                      version=doc.version),
            edits=text_edits))
    return lsp.WorkspaceEdit(document_changes=changes)


def _wanted(kind: str, only) -> bool:
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _overlaps(a: ServerTextRange, b: ServerTextRange) -> bool:
    return a.start <= b.end and b.start <= a.end


def _fixable(result: editor.Analysis) -> bool:
    return any(f.fix is not None and f.fix.edits and f.fix.applicability == "safe"
               for f in result.findings)


def _whole(ls: DroplintServer, uri: str, new_text: str) -> lsp.TextDocumentEdit | None:
    """An edit replacing the whole of document `uri` with `new_text`; None when unchanged."""
    doc = ls.workspace.get_text_document(uri)
    if new_text == doc.source:
        return None
    lines = list(doc.lines)
    whole = ServerTextRange(convert.point(lines, 1, 1), convert.text_end(lines))
    return lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version),
        edits=[lsp.TextEdit(range=doc.range_to_client_units(whole), new_text=new_text)])


def _fix_all(ls: DroplintServer, checked: str, result: editor.Analysis
             ) -> lsp.CodeAction | None:
    """Every safe fix at once, as `droplint check --fix` applies them: on a text document,
    or on a notebook's cells (one edit per changed cell; a fix may span cells)."""
    if not _fixable(result):
        return None
    nb = ls.workspace.get_notebook_document(notebook_uri=checked)
    if nb is None:
        doc = ls.workspace.get_text_document(checked)
        changes = [_whole(ls, checked, editor.fixed_text(doc.source, result.path,
                                                           result.settings))]
    else:
        cells = ls.cells_of(nb)
        fixed = editor.fixed_cells([(kind, text) for _, kind, text in cells], result.path,
                                     result.settings)
        changes = [_whole(ls, uri, new) for (uri, kind, _), new in zip(cells, fixed)
                   if kind == "code"]
    changes = [c for c in changes if c is not None]
    if not changes:
        return None
    return lsp.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL,
                          edit=lsp.WorkspaceEdit(document_changes=changes))


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
    code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False))
def code_action(ls: DroplintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    checked, cell = ls.owner(uri)
    result = ls.check(checked)
    doc = ls.workspace.get_text_document(uri)
    lines = list(doc.lines)
    wanted_range = doc.range_from_client_units(params.range)
    only = params.context.only
    actions: list[lsp.CodeAction] = []
    for f in result.findings:
        if f.cell != cell:
            continue
        rng = convert.finding_range(f, lines)
        if not _overlaps(rng, wanted_range):
            continue
        diag = ls.to_diagnostic(f, doc)
        if f.fix is not None and f.fix.edits and _wanted(lsp.CodeActionKind.QuickFix, only):
            actions.append(lsp.CodeAction(
                title=convert.action_title(f), kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diag], is_preferred=f.fix.applicability == "safe",
                edit=_edits_by_uri(ls, checked, cell, f.fix.edits)))
        noqa = editor.noqa_edits(doc.source, [f])
        if noqa and _wanted(lsp.CodeActionKind.QuickFix, only):
            actions.append(lsp.CodeAction(
                title=f"Add `# noqa: {f.code}`", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diag], edit=_edits_by_uri(ls, uri, None, noqa)))
    if _wanted(FIX_ALL, only):
        action = _fix_all(ls, checked, result)
        if action is not None:
            actions.append(action)
    return actions


# --- hover --------------------------------------------------------------------------------

@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: DroplintServer, params: lsp.HoverParams) -> lsp.Hover | None:
    from ..render.explain import codes_by_site
    from ..report import Report

    uri = params.text_document.uri
    checked, cell = ls.owner(uri)
    result = ls.check(checked)
    doc = ls.workspace.get_text_document(uri)
    pos = doc.position_from_client_units(params.position)
    sites = [s for s in result.sites if s.cell == cell]
    chosen = convert.sites_at(doc.source, sites, pos.line + 1, pos.character)
    if not chosen:
        return None
    codes = codes_by_site(Report("", "", findings=result.findings))
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                                value=convert.hover_markdown(chosen, codes)))


def start() -> None:
    """Serve over stdin/stdout until the client says exit."""
    server.start_io()
