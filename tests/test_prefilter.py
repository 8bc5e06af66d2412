"""The pre-filter (droplint/prefilter.py) never drops a file that has something to report.

Ground truth is the pipeline itself, run on the full text with no pre-filter: every input of
these corpora that yields a finding or a dropout site must be kept. Corpora: the examples, the
test data, every rule's BAD and GOOD examples, the Python sources written inline in the test
suite, and the real-world corpus (benchmarks/realworld; $DROPLINT_REALWORLD, default
/work/realworld/files) when it has been materialized on this machine.
"""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from droplint import pipeline, prefilter
from droplint.config import Settings
from droplint.document import Document
from droplint.graph import CELL_KINDS, DROPOUT_KINDS, RNN_KINDS
from droplint.loaders.keras_names import ALIASES
from droplint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = Path(os.environ.get("DROPLINT_REALWORLD", "/work/realworld/files"))
SETTINGS = Settings(keras_version="3")


def _unfiltered(data: bytes, path: str):
    """The pipeline's result for a file as if the pre-filter kept it."""
    doc = Document.from_bytes(path, data)
    if doc.is_notebook:
        _, result, bad = pipeline._check_program(doc.decoded(), SETTINGS)
        result.findings += bad  # DL900 of cells that do not parse, in cell coordinates
        return result
    try:
        text = doc.decoded().text
    except Exception:  # noqa: BLE001 - undecodable: DL900 today only when the filter passes
        text = data.decode("latin-1")
    return pipeline.check_text(text, path, SETTINGS)


def _inline_sources() -> list[tuple[str, bytes]]:
    """Python programs written as string literals in the test suite (those that import Keras
    or TensorFlow and parse)."""
    out = []
    for test in sorted((ROOT / "tests").glob("test_*.py")):
        if test.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "\n" in node.value \
                    and ("keras" in node.value or "tensorflow" in node.value):
                try:
                    compile(node.value, "x", "exec", ast.PyCF_ONLY_AST)
                except (SyntaxError, ValueError):
                    continue
                out.append((f"{test.name}:{node.lineno}", node.value.encode("utf-8")))
    return out


def corpus() -> list[tuple[str, str, bytes]]:
    """(label, path the pipeline sees, bytes) for every input checked."""
    items = []
    for folder in (ROOT / "examples", ROOT / "tests" / "data"):
        for f in sorted(folder.rglob("*")):
            if f.suffix in (".py", ".ipynb"):
                items.append((str(f.relative_to(ROOT)), str(f), f.read_bytes()))
    for rule in ALL_RULES:
        for kind in ("BAD", "GOOD"):
            for i, source in enumerate(getattr(rule, kind, ())):
                items.append((f"{rule.code}-{kind}{i}", "example.py", source.encode("utf-8")))
    items += [(label, "inline.py", data) for label, data in _inline_sources()]
    if REALWORLD.is_dir():
        for f in sorted(REALWORLD.iterdir()):
            if f.suffix in (".py", ".ipynb"):
                items.append((f.name, str(f), f.read_bytes()))
    return items


def test_never_drops_a_file_with_findings_or_sites():
    items = corpus()
    with_something = dropped = 0
    missed = []
    for label, path, data in items:
        result = _unfiltered(data, path)
        kept = prefilter.relevant(data, path)
        if result.findings or result.sites:
            with_something += 1
            if not kept:
                missed.append(f"{label}: {sorted({f.code for f in result.findings})}, "
                              f"{len(result.sites)} sites")
        elif not kept:
            dropped += 1
    assert not missed, "dropped although the pipeline reports something:\n" + "\n".join(missed)
    # The corpora are not trivial: most inputs have something, and some are dropped.
    rule_bad = sum(len(getattr(r, "BAD", ())) for r in ALL_RULES)
    assert with_something >= rule_bad
    assert dropped > 0


def test_names_cover_every_layer_kind_the_rules_know():
    known = DROPOUT_KINDS | RNN_KINDS | CELL_KINDS
    known |= {alias for alias, target in ALIASES.items() if target in known}
    assert known <= set(prefilter.LAYERS)


def test_keeps_only_what_the_old_name_test_keeps():
    assert not prefilter.relevant(b"import keras\nx = keras.layers.Dense(3)\n", "a.py")


KERAS = "import keras\nfrom keras import layers\n"


@pytest.mark.parametrize(("source", "kept"), [
    # a call of a layer, with a Keras or TensorFlow import
    (KERAS + "x = layers.Dropout(0.3)(x)\n", True),
    ("import tensorflow as tf\nm = tf.keras.Sequential([tf.keras.layers.LSTM(4)])\n", True),
    ("from tensorflow.keras.layers import GRU\nGRU(3)\n", True),
    ("import os, numpy as np, tf_keras\nl = tf_keras.layers.SimpleRNN(2)\n", True),
    ("import tensorflow as tf\ny = tf.nn.dropout(x, 0.5)\n", True),
    ("from keras import backend as K\nf = K.dropout\n", True),  # passed as a value
    (KERAS + "cls = layers.LSTM\nlayer = cls(3)\n", True),  # a reference, then called
    ("from keras.layers import Dropout as D\nD(0.2)\n", True),  # alias
    ("from keras.layers import (\n    Dropout,\n)\n", True),  # multi-line import: kept
    (KERAS + "class MyLSTM(layers.LSTM):\n    pass\n", True),  # subclass names its base
    # no Keras/TensorFlow import: no name can resolve to a Keras layer
    ("from torch import nn\nd = nn.Dropout(0.5)\n", False),
    ("from mylib import LSTM\nLSTM(3)\n", False),
    # only in docstrings, comments, strings, definitions, plain imports, configuration
    (KERAS + '"""Apply Dropout(0.5) before the LSTM(10)."""\nx = 1\n', False),
    (KERAS + "x = layers.Dense(3)  # Dropout(0.5) would go here\n", False),
    (KERAS + "name = 'Dropout(0.5)'\ndoc = '''LSTM(3)\n GRU(2)'''\n", False),
    (KERAS + "class LSTM:\n    def dropout(self):\n        return self.dropout\n", False),
    ("from keras.src.layers.regularization.dropout import Dropout\n", False),
    ("from keras.layers import CuDNNLSTM\n", True),  # DL303 reports the import itself
    (KERAS + "def f(dropout=0.2, recurrent_dropout=0.1):\n    return dropout\n", False),
    (KERAS + "x = layers.MultiHeadAttention(2, 4, dropout=0.1)\n", False),
    (KERAS + "x = tf.raw_ops.CudnnRNNV3(a)\nMyLSTM = 3\n", False),
    # a droplint suppression comment can make DL910 (unused noqa) without any layer
    ("x = 1  # noqa: DL101  (Dropout)\n", True),
    ("x = 1  # droplint: ignore[dropout-on-output] LSTM\n", True),
    ("x = 1  # noqa: E501 (LSTM)\n", False),
    # a file that does not compile is kept, whatever it names: the pipeline reports DL900
    ("from keras.layers import Dropout\nx = " + "[" * 5000 + "]" * 5000 + "\n", True),
    ("# an LSTM, in Python 2\nprint 'hello'\n", True),
    ("x = 'Dropout'\0\n", True),
])
def test_decides_from_code(source, kept):
    assert prefilter.relevant(source.encode(), "a.py") is kept


def _notebook(*cells: str) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": cell.splitlines(keepends=True)} for cell in cells]}, indent=1).encode()


def test_notebooks_are_decided_on_their_code_cells():
    nb = _notebook("import tensorflow as tf\n", "x = tf.keras.layers.Dropout(0.2)(x)\n")
    assert prefilter.relevant(nb, "a.ipynb")
    result = _unfiltered(nb, "a.ipynb")
    assert result.sites  # and the pipeline does find the site there
    quoted = _notebook("%matplotlib inline\nimport keras\n", "s = \"Dropout(0.2)\"  # LSTM\n",
                       "!pip install keras\n")
    assert not prefilter.relevant(quoted, "a.ipynb")
    broken = _notebook("import keras\n", "print 'Dropout'\n")
    assert prefilter.relevant(broken, "a.ipynb")
    assert [f.code for f in _unfiltered(broken, "a.ipynb").findings] == ["DL900"]


def test_a_notebook_that_is_not_json_is_kept_for_the_pipeline_to_report():
    data = b'{"cells": [ "Dropout('
    assert prefilter.relevant(data, "a.ipynb")
    result = pipeline.check_document(Document.from_bytes("a.ipynb", data), SETTINGS)
    assert [f.code for f in result.findings] == ["DL900"]


@pytest.mark.keras
def test_keras_src_is_mostly_dropped():
    """On the installed keras/src (when Keras is installed: the test extra has it), the
    filter keeps far fewer files than the name test alone, and every file it drops has no
    finding and no site."""
    from importlib.util import find_spec

    spec = find_spec("keras")
    assert spec is not None and spec.submodule_search_locations
    src = Path(list(spec.submodule_search_locations)[0]) / "src"
    files = sorted(src.rglob("*.py"))
    named = [f for f in files if prefilter.NAMES.search(f.read_bytes())]
    kept = [f for f in named if prefilter.relevant(f.read_bytes(), str(f))]
    assert len(kept) < 0.8 * len(named)
    for f in named:
        if f not in kept:
            result = pipeline.check_text(f.read_text(encoding="utf-8"), str(f), SETTINGS)
            assert not result.findings and not result.sites, f


def _idioms_pretest_agrees(texts: list[str]) -> int:
    """loaders/source/idioms.py tokenizes a text only when a sharper regex can match what the
    tokens find: the same idioms as tokenizing always. Returns how many texts had idioms."""
    import re

    from droplint.loaders.source import idioms

    always = re.compile("")
    with_idioms = 0
    for text in texts:
        if not idioms.WORDS.search(text):
            continue
        fast = idioms.tf1_idioms(text)
        saved, idioms._MAYBE = idioms._MAYBE, always
        try:
            slow = idioms.tf1_idioms(text)
        finally:
            idioms._MAYBE = saved
        assert fast == slow, text[:200]
        with_idioms += bool(slow)
    return with_idioms


def test_the_idioms_pretest_never_hides_an_idiom():
    texts = [data.decode("utf-8", "replace") for _, _, data in corpus()]
    texts += ["tf.compat \\\n .v1.x", "(tf.compat  # c\n .v1)", "tf . contrib", "KEEP_PROB = 1",
              "x = tf.\\\n placeholder(1)", "from .contrib import x", "tf.compat.v2"]
    assert _idioms_pretest_agrees(texts) >= 5


@pytest.mark.keras  # reads the installed Keras' own source (about 20 s)
def test_the_idioms_pretest_never_hides_an_idiom_in_keras_src():
    from importlib.util import find_spec

    spec = find_spec("keras")
    assert spec is not None and spec.submodule_search_locations  # the test extra has it
    src = Path(list(spec.submodule_search_locations)[0]) / "src"
    texts = [p.read_text("utf-8", "replace") for p in sorted(src.rglob("*.py"))]
    assert _idioms_pretest_agrees(texts) >= 5  # keras/src has TF1 idioms in about 11 files


def test_one_stdlib_parse_is_shared_per_text(monkeypatch):
    """budgets' pre-check, the positions and the fix checks parse a text once."""
    from droplint import budgets

    calls = []
    real = budgets.parse_stdlib
    monkeypatch.setattr(budgets, "parse_stdlib", lambda text: calls.append(text) or real(text))
    text = (ROOT / "examples" / "question_forecaster.py").read_text()
    result = pipeline.check_text(text, "q.py", SETTINGS)
    assert result.sites and any(f.fix is not None for f in result.findings)
    assert calls.count(text) == 1
    assert budgets._TREE == [None, None]  # forgotten once the text is checked
