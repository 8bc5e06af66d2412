"""Which files can hold a Keras dropout or recurrent layer, decided from their bytes before
anything is parsed (libcst parses ~13k lines/s; these regular expressions run at memory speed).

A Python file is kept when all of these hold:

1. the text names a dropout or recurrent layer somewhere (`NAMES`: the test the pipeline made
   before this module; any file it rejects has nothing droplint could find);
2. and either
   - it imports Keras or TensorFlow (`import keras`, `from tensorflow import keras`,
     `import tensorflow as tf`, tf_keras, ...): the source loader only knows a layer through
     such an import, so without one no call resolves to a Keras layer;
   - and one of the names is *used in code*: outside comments and string literals
     (docstrings included), not the name of a `def`/`class` being defined, not merely imported
     (an import `... as alias` is a use: the alias is then called; so is importing
     CuDNNLSTM/CuDNNGRU, which DL303 reports);
3. or a suppression comment names droplint codes or rule names (DL910 unused-noqa can fire
   without any layer);
4. or Python does not compile it (checked only for files that fail 2 and 3): a file that
   does not parse is reported (DL900), whatever it names.

The names are whole tokens (`LAYERS`: `Dropout`, `LSTM`, ...; `MyLSTM` or `CudnnRNNV3` are
not). Lowercase `dropout` is a use only where it can be the functional dropout the rules know:
called (`tf.nn.dropout(...)`, `dropout(...)`) or taken from a module (`K.dropout` passed as a
value); `self.dropout`, `dropout=0.2`, `recurrent_dropout` are not.

Notebooks are decided on their code cells' text (the JSON is decoded; JSON that does not
decode is kept: the pipeline reports it). Errs on the side of keeping: a file it keeps may
still have nothing to report; a file it drops would have had no finding (the one difference
left: a file CPython compiles but libcst cannot parse, with no Keras use, is not reported).
"""
from __future__ import annotations

import re

# (1) The pipeline's original test: a file without any of these has no site and no layer.
NAMES = re.compile(rb"ropout|LSTM|GRU|SimpleRNN|CuDNN|GaussianNoise|ConvLSTM|RNN\(")

# (2a) A Keras or TensorFlow import: `import a, b as c, tensorflow`, `from keras.x import`.
_IMPORT = re.compile(rb"\b(?:import|from)\s+(?:[\w.]+(?:\s+as\s+\w+)?\s*,\s*)*"
                     rb"(?:tf_keras|keras|tensorflow)\b")

# (2b) String literals and comments, removed before looking for uses. Unterminated strings
# do not match (their text is then read as code: it can only keep more files).
_NOT_CODE = re.compile(
    rb"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    rb'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    rb"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
    rb'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
    rb"|#[^\n]*", re.S)
# The class names a dropout site or a recurrent layer is made from (graph.py's DROPOUT_KINDS,
# RNN_KINDS, CELL_KINDS, keras_names' aliases of them; a test checks they are all here), and
# the functional `dropout`. A user's subclass names its Keras base class, which is a use.
LAYERS = ("Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout "
          "AlphaDropout GaussianNoise LSTM GRU SimpleRNN RNN ConvLSTM1D ConvLSTM2D ConvLSTM3D "
          "CuDNNLSTM CuDNNGRU LSTMCell GRUCell SimpleRNNCell StackedRNNCells LSTMV1 LSTMV2 "
          "GRUV1 GRUV2").split()
_NAME = re.compile(rb"\b(?:" + b"|".join(n.encode() for n in LAYERS) + rb"|dropout)\b")
# Names whose mere import is a finding (DL303: the removed cuDNN layers).
_REPORTED_WHEN_IMPORTED = frozenset({b"CuDNNLSTM", b"CuDNNGRU"})
_DEFINED = re.compile(rb"(?:^|[\s;:])(?:def|class)\s+$")
_IMPORT_LINE = re.compile(rb"\s*(?:import|from)\s")
_ALIAS_AFTER = re.compile(rb"\s+as\s")
_CALL_AFTER = re.compile(rb"\s*\(")
_SELF_BEFORE = re.compile(rb"\b(?:self|cls)\.$")

# (3) `# noqa: DL101`, `# noqa: dropout-on-output`, `# droplint: ignore[DL101]`.
_DROPLINT_NOQA = re.compile(
    rb"(?i)#\s*(?:noqa|droplint)\b[^\n]*?(?:\bDL\d|\b[a-z]+(?:-[a-z0-9]+)+\b)")


def first_use(code: bytes) -> re.Match | None:
    """The first use of one of the names in `code` (comments and strings removed; see the
    module's docstring), or None."""
    for m in _NAME.finditer(code):
        start = m.start()
        line_start = code.rfind(b"\n", 0, start) + 1
        before = code[line_start:start]
        if _DEFINED.search(before):
            continue  # `class LSTM(...)`, `def dropout(...)`: defined, not used
        on_import_line = _IMPORT_LINE.match(before) is not None
        if on_import_line:
            if _ALIAS_AFTER.match(code, m.end()) or m.group() in _REPORTED_WHEN_IMPORTED:
                return m  # `LSTM as L`: the alias is what gets called; DL303 flags the import
            continue
        if m.group() == b"dropout" and not _CALL_AFTER.match(code, m.end()) and not (
                before.endswith(b".") and not _SELF_BEFORE.search(before)):
            continue  # a variable or parameter `dropout`, `self.dropout`
        return m
    return None


def code_text(data: bytes, notebook: bool) -> bytes | None:
    """The Python text to judge: the file itself, or a notebook's code cells joined (None
    when the notebook's JSON cannot be read: the caller keeps it)."""
    if not notebook:
        return data
    import json

    try:
        nb = json.loads(data)
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
        parts = []
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                parts.append("".join(source) if isinstance(source, list) else str(source))
        return "\n".join(parts).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None


def relevant(data: bytes, path: str = "", *, notebook: bool | None = None) -> bool:
    """Can this file (its bytes) hold something droplint reports? A notebook (JSON) when
    `notebook`, by default when `path` ends with .ipynb."""
    if not NAMES.search(data):
        return False
    if b"\r" in data and b"\n" not in data:  # lone-CR line breaks: lines as Python reads them
        data = data.replace(b"\r", b"\n")
    notebook = path.endswith(".ipynb") if notebook is None else notebook
    text = code_text(data, notebook)
    if text is None:
        return True
    if NAMES.search(text) and (_DROPLINT_NOQA.search(text) or (
            _IMPORT.search(text) and first_use(_NOT_CODE.sub(b" ", text)) is not None)):
        return True
    return not _compiles(text, notebook)


# IPython lines in notebooks (`%magic`, `!shell`): replaced before compiling. A line this
# misses makes the compile fail, which only keeps the notebook.
_IPYTHON_LINE = re.compile(rb"^([ \t]*)[%!].*$", re.M)


def _compiles(text: bytes, notebook: bool) -> bool:
    """Whether Python compiles `text` (CPython's parser, ~10x faster than libcst's). A file
    that does not is kept: the pipeline reports why (DL900), as it did before this filter."""
    import warnings

    if notebook:
        text = _IPYTHON_LINE.sub(rb"\1pass", text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<prefilter>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True
