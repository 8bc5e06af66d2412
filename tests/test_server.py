"""`droplint server` driven by a real LSP client (pytest-lsp, built on pygls' client) in a
subprocess: initialize, open, diagnostics, code actions applied as an editor applies them,
hover, settings from pyproject.toml, notebook cells. No handler is called directly."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from droplint.rules import BY_CODE
from lsprotocol import types as lsp
from pygls.workspace import TextDocument
from pytest_lsp import ClientServerConfig, LanguageClient

from droplint.render.sarif import rule_doc_uri

ROOT = Path(__file__).resolve().parents[1]
QUESTION = (ROOT / "examples" / "question_forecaster.py").read_text(encoding="utf-8")
WAIT = 15  # seconds: a generous bound on one diagnostics round trip


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "droplint", "server"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=ROOT.as_uri()))
    lsp_client.published = Published(lsp_client)
    yield
    await lsp_client.shutdown_session()


# --- what an editor does ----------------------------------------------------------------------

class Published:
    """Every publishDiagnostics the client received, per uri, in order (the client's own
    handler keeps only the latest; a waiter registered late would miss one)."""

    def __init__(self, client: LanguageClient):
        self.seen: dict[str, list] = {}
        original = client.protocol.fm.features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def record(params: lsp.PublishDiagnosticsParams):
            self.seen.setdefault(params.uri, []).append(params.diagnostics)
            return original(params)

        client.protocol.fm.features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
        self.read: dict[str, int] = {}

    async def next(self, uri: str) -> list[lsp.Diagnostic]:
        """The next diagnostics for `uri` not yet returned."""
        async def wait():
            while len(self.seen.get(uri, [])) <= self.read.get(uri, 0):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(wait(), WAIT)
        self.read[uri] = self.read.get(uri, 0) + 1
        return self.seen[uri][self.read[uri] - 1]

    def pending(self, uri: str) -> int:
        return len(self.seen.get(uri, [])) - self.read.get(uri, 0)


async def diagnostics_for(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    """Wait for the next diagnostics published for `uri`."""
    return await client.published.next(uri)


def open_doc(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))


def apply(doc: TextDocument, edits: list[lsp.TextEdit]) -> list[lsp.TextDocumentContentChangePartial]:
    """Apply TextEdits to `doc` as an editor does (last first, so earlier positions hold);
    returns the same changes as incremental didChange events."""
    changes = [lsp.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
               for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                               reverse=True)]
    for change in changes:
        doc.apply_change(change)
    return changes


def edits_for(action: lsp.CodeAction, uri: str) -> list[lsp.TextEdit]:
    return [e for change in action.edit.document_changes if change.text_document.uri == uri
            for e in change.edits]


def change(client: LanguageClient, uri: str, version: int, changes) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=changes))


def by_code(diags: list[lsp.Diagnostic]) -> dict[str, lsp.Diagnostic]:
    return {d.code: d for d in diags}


def position_of(text: str, needle: str, offset: int = 0) -> lsp.Position:
    for n, line in enumerate(text.splitlines()):
        if needle in line:
            return lsp.Position(line=n, character=line.index(needle) + offset)
    raise AssertionError(f"{needle!r} not in the text")


async def actions_at(client, uri, diag: lsp.Diagnostic, only=None) -> list[lsp.CodeAction]:
    return await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=lsp.CodeActionContext(diagnostics=[diag], only=only)))


# --- the question's model -------------------------------------------------------------------

@pytest.mark.asyncio
async def test_dl101_spatial_dropout_action_clears_it_and_hover_explains(client, tmp_path):
    path = tmp_path / "question_forecaster.py"
    path.write_text(QUESTION, encoding="utf-8")
    uri = path.as_uri()
    open_doc(client, uri, QUESTION)
    diags = by_code(await diagnostics_for(client, uri))
    assert set(diags) == {"DL101", "DL303"}
    d101 = diags["DL101"]
    assert d101.source == "droplint"
    assert d101.severity == lsp.DiagnosticSeverity.Information
    assert diags["DL303"].severity == lsp.DiagnosticSeverity.Error
    assert d101.code_description.href == rule_doc_uri(BY_CODE["DL101"])
    # the range is `Dropout(0.3)` on line 9 (0-based 8), as `droplint check` reports 9:5
    assert (d101.range.start.line, d101.range.start.character) == (8, 4)
    assert QUESTION.splitlines()[8][4:d101.range.end.character] == "Dropout(0.3)"
    assert "single (timestep, feature) entries" in d101.message

    actions = await actions_at(client, uri, d101)
    titles = [a.title for a in actions]
    spatial = [a for a in actions if a.title.startswith("Unsafe fix: ")
               and "SpatialDropout1D" in a.title]
    assert len(spatial) == 1, titles
    assert "Add `# noqa: DL101`" in titles
    assert all(a.diagnostics and a.diagnostics[0].code == "DL101"
               for a in actions if a.kind == lsp.CodeActionKind.QuickFix)

    doc = TextDocument(uri, QUESTION)
    changes = apply(doc, edits_for(spatial[0], uri))
    assert "x = SpatialDropout1D(0.3)(ipt)" in doc.source
    assert "SpatialDropout1D, " in doc.source.splitlines()[2]  # imported
    change(client, uri, 2, changes)
    after = by_code(await diagnostics_for(client, uri))
    assert set(after) == {"DL303"}

    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=position_of(doc.source, "SpatialDropout1D(0.3)", 3)))
    assert "whole features" in hover.contents.value

    # hover on the original: what Dropout(0.3) masks, with a picture of the mask
    change(client, uri, 3, [lsp.TextDocumentContentChangeWholeDocument(text=QUESTION)])
    await diagnostics_for(client, uri)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=position_of(QUESTION, "Dropout(0.3)", 2)))
    text = hover.contents.value
    assert "single (timestep, feature) entries" in text
    assert "Dropout(0.3)" in text and "(None, 30, 8)" in text
    assert "█" in text and "t0 │" in text and "DL101" in text
    outside = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=position_of(QUESTION, "shape = (30, 8)")))
    assert outside is None


@pytest.mark.asyncio
async def test_safe_fix_noqa_and_fix_all(client, tmp_path):
    uri = (tmp_path / "q.py").as_uri()
    open_doc(client, uri, QUESTION)
    diags = by_code(await diagnostics_for(client, uri))
    actions = await actions_at(client, uri, diags["DL303"])
    safe = [a for a in actions if a.title.startswith("Fix: ") and "(DL303)" in a.title]
    assert len(safe) == 1 and safe[0].is_preferred

    noqa = next(a for a in actions if a.title == "Add `# noqa: DL303`")
    doc = TextDocument(uri, QUESTION)
    change(client, uri, 2, apply(doc, edits_for(noqa, uri)))
    assert "CuDNNLSTM(10, return_sequences=False)(x)  # noqa: DL303" in doc.source
    assert set(by_code(await diagnostics_for(client, uri))) == {"DL101"}

    fresh = (tmp_path / "r.py").as_uri()
    open_doc(client, fresh, QUESTION)
    diags = by_code(await diagnostics_for(client, fresh))
    only = [lsp.CodeActionKind.SourceFixAll]
    fix_all = await actions_at(client, fresh, diags["DL101"], only=only)
    assert [a.title for a in fix_all] == ["Fix all safe droplint problems"]
    assert fix_all[0].kind == "source.fixAll.droplint"
    doc = TextDocument(fresh, QUESTION)
    change(client, fresh, 2, apply(doc, edits_for(fix_all[0], fresh)))
    assert "x = LSTM(10, return_sequences=False)(x)" in doc.source
    assert "Dropout(0.3)" in doc.source  # the unsafe DL101 fix is not applied
    assert set(by_code(await diagnostics_for(client, fresh))) == {"DL101"}


@pytest.mark.asyncio
async def test_changes_are_debounced_and_the_last_text_wins(client, tmp_path):
    uri = (tmp_path / "d.py").as_uri()
    open_doc(client, uri, QUESTION)
    await diagnostics_for(client, uri)
    text = QUESTION
    for version in range(2, 7):  # five quick edits, each an appended comment
        text += f"# edit {version}\n"
        change(client, uri, version, [lsp.TextDocumentContentChangeWholeDocument(text=text)])
    fixed = text.replace("CuDNNLSTM", "LSTM")
    change(client, uri, 7, [lsp.TextDocumentContentChangeWholeDocument(text=fixed)])
    last = await diagnostics_for(client, uri)
    await asyncio.sleep(1.0)  # more than the debounce delay: anything else would be here
    assert client.published.pending(uri) == 0, "more than one check for 6 quick changes"
    assert set(by_code(last)) == {"DL101"}


@pytest.mark.asyncio
async def test_settings_come_from_the_nearest_pyproject(client, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.droplint]\nignore = ["DL101"]\n')
    (tmp_path / "pkg").mkdir()
    uri = (tmp_path / "pkg" / "model.py").as_uri()
    open_doc(client, uri, QUESTION)
    assert set(by_code(await diagnostics_for(client, uri))) == {"DL303"}


# --- notebooks ------------------------------------------------------------------------------

NB_CELLS = [
    (lsp.NotebookCellKind.Code, ("from keras.layers import CuDNNLSTM, Dense, Dropout, Input\n"
                                "from keras.models import Model\n")),
    (lsp.NotebookCellKind.Markup, "## the model\n"),
    (lsp.NotebookCellKind.Code, ("ipt = Input(shape=(30, 8))\nx = Dropout(0.3)(ipt)\n"
                                "x = CuDNNLSTM(10)(x)\nmodel = Model(ipt, Dense(1)(x))\n")),
]


@pytest.mark.asyncio
async def test_notebook_cells_are_checked_together(client, tmp_path):
    nb_uri = (tmp_path / "nb.ipynb").as_uri()
    cell_uris = [f"{nb_uri}#cell{i}" for i in range(len(NB_CELLS))]
    client.notebook_document_did_open(lsp.DidOpenNotebookDocumentParams(
        notebook_document=lsp.NotebookDocument(
            uri=nb_uri, notebook_type="jupyter-notebook", version=1,
            cells=[lsp.NotebookCell(kind=k, document=u) for (k, _), u in zip(NB_CELLS, cell_uris)]),
        cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python" if k == 1
                                                  else "markdown", version=1, text=t)
                             for (k, t), u in zip(NB_CELLS, cell_uris)]))
    got = {u: await diagnostics_for(client, u) for u in cell_uris}
    diags = by_code(got[cell_uris[2]])
    assert set(diags) == {"DL101", "DL303"}  # names from cell 1 are known in cell 3
    assert diags["DL101"].range.start.line == 1

    actions = await actions_at(client, cell_uris[2], diags["DL101"])
    spatial = next(a for a in actions if "SpatialDropout1D" in a.title)
    touched = {c.text_document.uri for c in spatial.edit.document_changes}
    assert touched == {cell_uris[0], cell_uris[2]}  # the import is in the first cell
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=cell_uris[2]),
        position=lsp.Position(line=1, character=6)))
    assert "single (timestep, feature) entries" in hover.contents.value

    cell3 = TextDocument(cell_uris[2], NB_CELLS[2][1])
    changes = apply(cell3, edits_for(spatial, cell_uris[2]))
    cell1 = TextDocument(cell_uris[0], NB_CELLS[0][1])
    changes1 = apply(cell1, edits_for(spatial, cell_uris[0]))
    client.notebook_document_did_change(lsp.DidChangeNotebookDocumentParams(
        notebook_document=lsp.VersionedNotebookDocumentIdentifier(version=2, uri=nb_uri),
        change=lsp.NotebookDocumentChangeEvent(cells=lsp.NotebookDocumentCellChanges(
            text_content=[lsp.NotebookDocumentCellContentChanges(
                document=lsp.VersionedTextDocumentIdentifier(uri=u, version=2), changes=c)
                for u, c in ((cell_uris[0], changes1), (cell_uris[2], changes))]))))
    assert set(by_code(await diagnostics_for(client, cell_uris[2]))) == {"DL303"}


@pytest.mark.asyncio
async def test_fix_all_is_offered_in_a_notebook_and_edits_every_cell_it_needs(client, tmp_path):
    cells = [(lsp.NotebookCellKind.Code, "from keras.layers import CuDNNLSTM, Input\n"),
             (lsp.NotebookCellKind.Markup, "## the model\n"),
             (lsp.NotebookCellKind.Code, "ipt = Input(shape=(30, 8))\nx = CuDNNLSTM(10)(ipt)\n")]
    nb_uri = (tmp_path / "fix.ipynb").as_uri()
    cell_uris = [f"{nb_uri}#cell{i}" for i in range(len(cells))]
    client.notebook_document_did_open(lsp.DidOpenNotebookDocumentParams(
        notebook_document=lsp.NotebookDocument(
            uri=nb_uri, notebook_type="jupyter-notebook", version=1,
            cells=[lsp.NotebookCell(kind=k, document=u) for (k, _), u in zip(cells, cell_uris)]),
        cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python" if k == 2
                                                  else "markdown", version=1, text=t)
                             for (k, t), u in zip(cells, cell_uris)]))
    got = {u: await diagnostics_for(client, u) for u in cell_uris}
    diags = by_code(got[cell_uris[2]])
    assert set(diags) == {"DL303"}

    fix_all = await actions_at(client, cell_uris[2], diags["DL303"],
                               only=[lsp.CodeActionKind.SourceFixAll])
    assert [a.title for a in fix_all] == ["Fix all safe droplint problems"]
    assert fix_all[0].kind == "source.fixAll.droplint"
    docs = {u: TextDocument(u, t) for (_, t), u in zip(cells, cell_uris)}
    edited = {c.text_document.uri for c in fix_all[0].edit.document_changes}
    assert edited == {cell_uris[0], cell_uris[2]}  # the import's cell and the call's cell
    changes = {u: apply(docs[u], edits_for(fix_all[0], u)) for u in edited}
    assert "CuDNNLSTM" not in docs[cell_uris[0]].source + docs[cell_uris[2]].source
    assert "x = LSTM(10)(ipt)" in docs[cell_uris[2]].source
    assert docs[cell_uris[1]].source == cells[1][1]
    client.notebook_document_did_change(lsp.DidChangeNotebookDocumentParams(
        notebook_document=lsp.VersionedNotebookDocumentIdentifier(version=2, uri=nb_uri),
        change=lsp.NotebookDocumentChangeEvent(cells=lsp.NotebookDocumentCellChanges(
            text_content=[lsp.NotebookDocumentCellContentChanges(
                document=lsp.VersionedTextDocumentIdentifier(uri=u, version=2), changes=c)
                for u, c in changes.items()]))))
    assert list(await diagnostics_for(client, cell_uris[2])) == []


# --- the source side only -------------------------------------------------------------------

def test_the_server_never_imports_keras_or_a_backend():
    script = (
        "import sys\n"
        "from droplint import editor as analysis\n"
        "from droplint.server import app, convert\n"
        f"text = open({str(ROOT / 'examples' / 'question_forecaster.py')!r}).read()\n"
        "a = analysis.analyze_text(text, 'q.py', analysis.settings_for(None)[0])\n"
        "assert [f.code for f in a.findings] == ['DL101', 'DL303'], a.findings\n"
        "convert.hover_markdown(a.sites, {})\n"
        "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'jax', 'torch') if m in sys.modules]\n"
        "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
