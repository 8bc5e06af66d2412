"""Source reductions of real-world patterns (issue 7), written for droplint: every CuDNN
reference is DL303, Keras 1 dropout arguments (DL309), each site once, nothing from code the
known values cannot reach, DL401 through shape-preserving tails. Claims about Keras are checked
against Keras 3 (in process) and tf_keras 2 (subprocess, TF_USE_LEGACY_KERAS=1)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import droplint
from droplint.engine import collect_sites
from droplint.fixes import apply_fixes
from droplint.graph import UNKNOWN
from droplint.keras_version import parse
from droplint.loaders.source import load


def check(src: str, keras: str = "3"):
    return droplint.analyze_source(textwrap.dedent(src), "m.py", keras_version=keras)


def found(src: str, code: str, keras: str = "3") -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in check(src, keras).findings if f.code == code]


def fixed(src: str, code: str) -> str:
    """The rule's fixes applied until none is left (as --fix does)."""
    src = textwrap.dedent(src)
    for _ in range(5):
        fixes = [f.fix for f in check(src).findings if f.code == code and f.fix]
        src, count = apply_fixes(src, fixes)
        if not count:
            break
    return src


def said(f) -> str:
    """A finding's whole text: the message and, where it has one, the help."""
    return f.message + " " + (getattr(f, "help", None) or "")


# ------------------------------------------------------------------------------------------
# DL303: every CuDNNLSTM / CuDNNGRU.

def test_cudnn_inside_bidirectional_is_dl303_with_a_fix():
    src = """\
        from keras.layers import Input, Bidirectional, CuDNNLSTM
        x = Bidirectional(CuDNNLSTM(16))(Input((30, 8)))
        """
    report = check(src)
    (f,) = [f for f in report.findings if f.code == "DL303"]
    assert (f.line, f.column) == (2, 19)
    assert f.message.startswith("CuDNNLSTM(16) inside Bidirectional: ")
    assert fixed(src, "DL303") == textwrap.dedent("""\
        from keras.layers import Input, Bidirectional, LSTM
        x = Bidirectional(LSTM(16))(Input((30, 8)))
        """)


def test_cudnn_as_layer_keyword_in_time_distributed_and_sequential():
    src = """\
        from keras.layers import Bidirectional, CuDNNGRU, TimeDistributed
        from keras.models import Sequential
        model = Sequential()
        model.add(Bidirectional(layer=CuDNNGRU(8, return_sequences=True), input_shape=(30, 8)))
        model.add(TimeDistributed(CuDNNGRU(4)))
        model.add(CuDNNGRU(8))
        """
    assert found(src, "DL303") == [(4, 31), (5, 27), (6, 11)]


def test_cudnn_in_a_builder_function_never_called():
    src = """\
        from keras.layers import CuDNNLSTM, Dense
        from keras.models import Sequential

        def build(units, depth):
            model = Sequential()
            for _ in range(depth):
                model.add(CuDNNLSTM(units, return_sequences=True))
            model.add(Dense(1))
            return model
        """
    assert found(src, "DL303") == [(7, 19)]


CONDITIONAL = """\
    import tensorflow as tf
    from keras.layers import Dense, Input
    from keras.models import Model
    if tf.config.list_physical_devices('GPU'):
        from keras.layers import CuDNNLSTM as LSTM
    else:
        from keras.layers import LSTM
    inp = Input((30, 8))
    x = LSTM(32, dropout=0.2)(inp)
    model = Model(inp, Dense(1)(x))
    """


def test_conditional_alias_is_both_the_import_is_reported_and_the_layer_explained():
    report = check(CONDITIONAL)
    (f,) = [f for f in report.findings if f.code == "DL303"]
    assert (f.line, f.column) == (5, 30)
    assert "import of CuDNNLSTM as LSTM" in said(f) and "ImportError" in said(f)
    # The name is both: what it builds is analyzed as the LSTM current Keras has.
    (site,) = report.sites
    assert (site.layer, site.argument, site.drops) == ("LSTM", "dropout", "features")
    assert "from keras.layers import LSTM as LSTM" in fixed(CONDITIONAL, "DL303")


def test_try_except_alias_and_unused_import():
    src = """\
        try:
            from keras.layers import CuDNNGRU as GRU
        except ImportError:
            from keras.layers import GRU
        from keras.layers import CuDNNLSTM, Input
        x = GRU(8)(Input((30, 8)))
        """
    assert found(src, "DL303") == [(2, 30), (5, 26)]


def test_a_cudnn_layer_built_is_reported_once_not_again_at_its_import():
    src = """\
        from keras.layers import CuDNNGRU, Input
        x = CuDNNGRU(8)(Input((30, 8)))
        """
    assert found(src, "DL303") == [(2, 5)]


@pytest.mark.keras
def test_cudnn_classes_are_gone_from_keras3_and_tf_keras_layers():
    """The claim DL303 makes: no CuDNNLSTM/CuDNNGRU in Keras 3, nor in tf_keras.layers (only
    under tf.compat.v1 in tf.keras 2)."""
    import keras

    assert not hasattr(keras.layers, "CuDNNLSTM") and not hasattr(keras.layers, "CuDNNGRU")
    out = _tf_keras("import tf_keras; print(json.dumps([hasattr(tf_keras.layers, n) for n in "
                    "('CuDNNLSTM', 'CuDNNGRU', 'LSTM')]))")
    assert out == [False, False, True]


# ------------------------------------------------------------------------------------------
# DL309: Keras 1 dropout arguments.

KERAS1 = """\
    from keras.models import Sequential
    from keras.layers import Bidirectional, Dense, Dropout, Embedding, LSTM
    model = Sequential()
    model.add(Embedding(20000, 128, input_length=80, dropout=0.2))
    model.add(Bidirectional(LSTM(16, dropout_W=0.2, dropout_U=0.1, return_sequences=True)))
    model.add(Dropout(p=0.5))
    model.add(LSTM(8, dropout_W=0.3))
    model.add(Dense(1))
    """


def test_keras1_arguments_are_dl309_at_each_argument():
    report = check(KERAS1)
    got = [(f.line, f.column, f.message.split(" is Keras 1")[0])
           for f in report.findings if f.code == "DL309"]
    assert got == [(4, 50, "Embedding(dropout=0.2)"), (5, 34, "LSTM(dropout_W=0.2)"),
                   (5, 49, "LSTM(dropout_U=0.1)"), (6, 19, "Dropout(p=0.5)"),
                   (7, 19, "LSTM(dropout_W=0.3)")]
    embedding = next(f for f in report.findings if f.code == "DL309")
    assert embedding.fix is None and "SpatialDropout1D(0.2) after the Embedding" in \
        said(embedding)
    tf2 = [said(f) for f in check(KERAS1, keras="2").findings if f.code == "DL309"]
    assert "tf.keras 2" in tf2[1] and "TypeError" in tf2[1]


def test_keras1_arguments_are_sites_with_their_modern_meaning():
    sites = [(s.line, s.layer, s.argument, s.rate, s.drops) for s in check(KERAS1).sites]
    assert sites == [(5, "Bidirectional", "dropout", 0.2, "features"),
                     (5, "Bidirectional", "recurrent_dropout", 0.1, "units"),
                     (6, "Dropout", None, 0.5, "elements"),
                     (7, "LSTM", "dropout", 0.3, "features")]


def test_keras1_fix_renames_the_keywords():
    assert fixed(KERAS1, "DL309") == textwrap.dedent(KERAS1).replace(
        "dropout_W=", "dropout=").replace("dropout_U=", "recurrent_dropout=").replace(
        "Dropout(p=", "Dropout(rate=")


def test_keras1_name_next_to_the_modern_one_gets_no_fix():
    src = """\
        from keras.layers import LSTM, Input
        y = LSTM(8, dropout=0.1, dropout_W=0.3)(Input((30, 8)))
        """
    (f,) = [f for f in check(src).findings if f.code == "DL309"]
    assert f.fix is None and (f.line, f.column) == (2, 26)
    (site,) = check(src).sites
    assert site.rate == 0.1  # the modern argument wins (Keras 2 raised for both)


def _tf_keras(code: str):
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


KERAS1_CALLS = {  # what DL309 says raises, and the modern spelling its fix writes
    "LSTM(4, dropout_W=0.2)": "LSTM(4, dropout=0.2)",
    "GRU(4, dropout_U=0.2)": "GRU(4, recurrent_dropout=0.2)",
    "SimpleRNN(4, dropout_W=0.2)": "SimpleRNN(4, dropout=0.2)",
    "Embedding(10, 4, dropout=0.2)": "Embedding(10, 4)",
    "Dropout(p=0.5)": "Dropout(rate=0.5)",
    "SpatialDropout1D(p=0.5)": "SpatialDropout1D(rate=0.5)",
    "GaussianDropout(p=0.5)": "GaussianDropout(rate=0.5)",
}
_CONSTRUCT = """
def outcome(layers, call):
    try:
        eval('layers.' + call, {'layers': layers})
        return 'ok'
    except Exception as exc:
        return type(exc).__name__
"""


@pytest.mark.keras
def test_keras1_arguments_raise_in_keras3_and_tf_keras_and_the_fixed_calls_build():
    import keras

    namespace: dict = {}
    exec(_CONSTRUCT, namespace)
    calls = list(KERAS1_CALLS) + list(KERAS1_CALLS.values())
    k3 = [namespace["outcome"](keras.layers, c) for c in calls]
    tf2 = _tf_keras(_CONSTRUCT + "import tf_keras\n"
                    f"print(json.dumps([outcome(tf_keras.layers, c) for c in {calls!r}]))")
    n = len(KERAS1_CALLS)
    assert k3[n:] == ["ok"] * n and tf2[n:] == ["ok"] * n
    assert k3[:n] == ["ValueError", "ValueError", "ValueError", "ValueError", "TypeError",
                      "TypeError", "TypeError"]
    assert tf2[:n] == ["TypeError"] * n
    # And DL309 fires on each of them.
    for call in KERAS1_CALLS:
        kind = call.partition("(")[0]
        src = f"from keras.layers import {kind}\nlayer = {call}\n"
        assert found(src, "DL309"), call


def test_unused_cudnn_import_next_to_its_replacement_is_removed_not_renamed():
    src = """\
        from keras.layers import (
            LSTM,
            CuDNNLSTM,
        )
        from keras.layers import Dense, CuDNNGRU
        x = LSTM(8)
        """
    assert found(src, "DL303") == [(3, 5), (5, 33)]
    assert fixed(src, "DL303") == textwrap.dedent("""\
        from keras.layers import (
            LSTM,
        )
        from keras.layers import Dense
        x = LSTM(8)
        """)


# ------------------------------------------------------------------------------------------
# DL401 through element-wise tails.

def test_dropout_followed_only_by_an_activation_is_on_the_output():
    src = """\
        from keras.models import Sequential, Model
        from keras.layers import Activation, Dense, Dropout, Input, LSTM
        model = Sequential()
        model.add(Input((30, 8)))
        model.add(LSTM(16))
        model.add(Dense(4))
        model.add(Dropout(0.3))
        model.add(Activation('softmax'))
        inp = Input((30, 8))
        x = Dropout(0.2)(Dense(4)(LSTM(16)(inp)))
        out = Activation('sigmoid')(Activation('relu')(x))
        functional = Model(inp, out)
        """
    findings = [f for f in check(src).findings if f.code == "DL401"]
    assert [(f.line, f.column) for f in findings] == [(7, 11), (10, 5)]
    assert findings[0].message.startswith(
        "Dropout(0.3) is on the model's output after Dense, then Activation('softmax')")
    assert ", then Activation('relu'), then Activation('sigmoid')" in findings[1].message


def test_dropout_whose_output_also_feeds_a_hidden_layer_is_not_on_the_output():
    src = """\
        from keras.models import Model
        from keras.layers import Activation, Dense, Dropout, Input, concatenate
        inp = Input((8,))
        x = Dropout(0.3)(Dense(4)(inp))
        out = Activation('softmax')(x)
        aux = Dense(1)(concatenate([x, inp]))
        model = Model(inp, [out, aux])
        """
    assert found(src, "DL401") == []


@pytest.mark.parametrize("joined", [
    "Merge([left, right], mode='concat')",  # Keras 1 Merge layer, first layer of `model`
    "Merge(layers=[left, right], mode='concat')",
])
def test_sequential_given_to_a_keras1_merge_is_a_part_not_the_output(joined):
    src = f"""\
        from keras.models import Sequential
        from keras.layers import Dense, Dropout, Merge
        left = Sequential()
        left.add(Dense(8, input_dim=4))
        left.add(Dropout(0.3))
        right = Sequential()
        right.add(Dense(8, input_dim=4))
        right.add(Dropout(0.2))
        model = Sequential()
        model.add({joined})
        model.add(Dense(1))
        model.add(Dropout(0.5))
        """
    # only the merged model's own last Dropout is its output
    assert found(src, "DL401") == [(12, 11)]


@pytest.mark.parametrize("joined", [
    "merge([left, right], mode='concat')",  # Keras 1 merge function
    "concatenate([left, right])",
    "Concatenate()([left, right])",
])
def test_sequential_given_to_a_merge_call_is_a_part_not_the_output(joined):
    src = f"""\
        from keras.models import Sequential
        from keras.layers import Dense, Dropout, Concatenate, concatenate, merge
        left = Sequential()
        left.add(Dense(8, input_dim=4))
        left.add(Dropout(0.3))
        right = Sequential()
        right.add(Dense(8, input_dim=4))
        right.add(Dropout(0.2))
        x = {joined}
        """
    assert found(src, "DL401") == []


def test_branches_of_an_unknown_condition_keep_their_common_rank():
    # both arms give a rank-2 tensor from different layers: no edge, but the rank (and the
    # sizes both agree on) stays for the Dropout after them
    src = """\
        from keras.layers import Dense, Dropout, Input, MaxoutDense
        from keras.models import Model
        def build(final_type):
            inp = Input((16,))
            if final_type == "maxout":
                x = MaxoutDense(32)(inp)
            else:
                x = Dense(64, activation=final_type)(inp)
            x = Dropout(0.5)(x)
            return Model(inp, Dense(3)(x))
        """
    sites = check(src).sites
    assert [(s.line, s.input_shape, s.drops) for s in sites] == [(9, [None, None], "units")]


def test_sequential_left_alone_still_ends_in_its_output():
    src = """\
        from keras.models import Sequential
        from keras.layers import Dense, Dropout
        left = Sequential()
        left.add(Dense(8, input_dim=4))
        left.add(Dropout(0.3))
        """
    assert found(src, "DL401") == [(5, 10)]


# ------------------------------------------------------------------------------------------
# Reachability: conditions decided by known values prune the branch they exclude.

def test_isinstance_of_a_known_value_prunes_the_other_branch():
    src = """\
        from keras.layers import Input, LSTM, TimeDistributed, Dropout, SpatialDropout1D

        def block(x, rate=0.5):
            if isinstance(rate, (tuple, list)):
                x = SpatialDropout1D(rate[0])(x)
            else:
                x = TimeDistributed(Dropout(rate))(x)
            return LSTM(8)(x)

        y = block(Input((30, 8)), (0.1, 0.2))
        """
    report = check(src)
    assert [(s.line, s.layer, s.rate) for s in report.sites] == [(5, "SpatialDropout1D", 0.1)]
    assert found(src, "DL105") == []


def test_a_branch_excluded_by_a_default_value_runs_with_that_parameter_unknown():
    """Never called: a caller may pass a float, so the else branch is reachable, but not with
    the default tuple as the rate."""
    src = """\
        from keras.layers import Dropout, LSTM, TimeDistributed

        def block(x, rate=(0.2, 0.3)):
            if isinstance(rate, tuple):
                x = Dropout(rate[0])(x)
            else:
                x = TimeDistributed(Dropout(rate))(x)
            return LSTM(8)(x)
        """
    messages = [said(f) for f in check(src).findings if f.code == "DL105"]
    assert messages and all("(0.2, 0.3)" not in m for m in messages)
    assert [s.rate for s in check(src).sites if s.layer == "Dropout"] == [0.2]


def test_constant_conditions_prune():
    src = """\
        from keras.layers import Input, LSTM, Dropout
        USE = False
        x = inp = Input((30, 8))
        if False:
            x = Dropout(0.99)(x)
        if USE:
            x = Dropout(1.0)(x)
        if 2 > 3 or isinstance(USE, int) and not isinstance(USE, bool):
            x = Dropout(-1)(x)
        y = LSTM(8)(x)
        """
    report = check(src)
    assert report.sites == [] and report.findings == []


# ------------------------------------------------------------------------------------------
# Each site once.

BUILDER = """\
    from keras.layers import Dense, Dropout, Input, LSTM
    from keras.models import Model

    def build(units, rate):
        inp = Input((30, 8))
        x = Dropout(rate)(inp)
        x = LSTM(units, dropout=0.2)(x)
        return Model(inp, Dropout(0.1)(Dense(1)(x)))

    models = [build(16, 0.3), build(16, 0.3), build(16, 0.3)]
    """


def test_identical_copies_from_one_function_are_one_site():
    report = check(BUILDER)
    assert [(s.line, s.layer, s.argument) for s in report.sites] == [
        (6, "Dropout", None), (7, "LSTM", "dropout"), (8, "Dropout", None)]
    positions = [(f.code, f.line, f.column) for f in report.findings]
    assert len(positions) == len(set(positions)) and ("DL401", 8, 23) in positions
    assert all("one site for 3 identical copies" in s.description for s in report.sites)
    assert any("reported once" in note for note in load(textwrap.dedent(BUILDER), "m.py").notes)


def test_different_arguments_are_different_sites():
    src = BUILDER.replace("build(16, 0.3), build(16, 0.3)", "build(16, 0.3), build(32, 0.5)")
    sites = [s for s in check(src).sites if s.argument is None]
    assert sorted((s.line, s.rate) for s in sites) == [(6, 0.3), (6, 0.5), (8, 0.1)]
    # the output Dropout(0.1) on (None, 1) is the same in all three models: one site, counted
    by_rate = {(s.line, s.rate): s.description for s in sites}
    assert "3 identical copies" in by_rate[8, 0.1] and "2 identical copies" in by_rate[6, 0.3]
    assert "copies" not in by_rate[6, 0.5]


def test_helper_called_by_a_never_called_function_is_read_with_its_arguments():
    """Pattern of the corpus (rnn_tagger.py, nn_models.py): a builder that nothing calls calls
    a helper; the helper is read there, not first on its own with unknown parameters (which
    gave a second, unknown site and a second DL309 at the same position)."""
    src = """\
        from keras.layers import LSTM, Bidirectional, Input

        def stack(x, rate):
            return Bidirectional(LSTM(16, return_sequences=True, dropout_W=rate))(x)

        def tagger(rate=0.2):
            return stack(Input((20, 8)), rate)
        """
    report = check(src)
    assert [(s.line, s.argument, s.rate, s.input_shape, s.drops) for s in report.sites] == [
        (4, "dropout", 0.2, [None, 20, 8], "features")]
    assert [(f.code, f.line, f.column) for f in report.findings] == [("DL309", 4, 58)]
    assert "dropout_W=0.2" in report.findings[0].message
    # a helper nothing calls at all is still read, with unknown parameters
    alone = check(src.replace("return stack(Input((20, 8)), rate)", "return None"))
    assert [(s.line, s.rate) for s in alone.sites] == [(4, None)]


def test_two_findings_with_one_code_at_one_position_keep_the_first():
    """A loop builds one call with two rates: two sites (they differ), and DL309 at the one
    `dropout_W=` keyword once (the two differ only in the rate they print)."""
    src = """\
        from keras.layers import LSTM, Input
        inp = Input((20, 8))
        outs = []
        for rate in (0.2, 0.5):
            outs.append(LSTM(16, dropout_W=rate)(inp))
        """
    report = check(src)
    assert [(s.line, s.rate) for s in report.sites] == [(5, 0.2), (5, 0.5)]
    assert [(f.code, f.line, f.column) for f in report.findings] == [("DL309", 5, 26)]
    assert "dropout_W=0.2" in report.findings[0].message


def test_unpacked_arguments_of_unknown_length_fill_positional_parameters_only():
    src = """\
        from keras.layers import LSTM, Embedding, Input
        def f(m, cfg):
            x = Embedding(*m.shape)(Input((5,)))
            return LSTM(*cfg)(x)
        """
    graph = load(textwrap.dedent(src), "m.py")
    emb, lstm = [lay for lay in graph.layers if lay.kind in ("Embedding", "LSTM")]
    assert "dropout" not in emb.args  # no Keras 1 Embedding(dropout=): no DL309
    assert not any(f.code == "DL309" for f in check(src).findings)
    assert lstm.args["dropout"] is UNKNOWN  # LSTM's dropout is positional: it may be set


def _notebook(path, *cells):
    path.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": list(lines)} for lines in cells], "metadata": {}, "nbformat": 4,
        "nbformat_minor": 5}, indent=1))
    return path


def test_notebook_cell_with_a_common_leading_indent_is_read_as_ipython_does(tmp_path):
    """IPython removes a cell's leading indentation (leading_indent): no DL900, and the
    positions, the site and the fix are in the cell's own columns."""
    nb = _notebook(tmp_path / "n.ipynb",
                   ["  from keras.layers import Dropout, Input, LSTM\n",
                    "  x = Dropout(0.2)(Input((30, 8)))\n", "  y = LSTM(4)(x)\n"],
                   [" print(y)"])
    report = droplint.analyze(str(nb), keras_version="3")
    assert [(f.code, f.cell, f.line, f.column, f.end_column) for f in report.findings] == [
        ("DL101", 1, 2, 7, 19)]
    assert [(s.cell, s.line, s.column) for s in report.sites] == [(1, 2, 7)]
    edits = [(e.line, e.column, e.end_column) for e in report.findings[0].fix.edits]
    assert edits == [(1, 28, 37), (2, 7, 14)]
    subprocess.run([sys.executable, "-m", "droplint", "check", "--fix", "--unsafe-fixes",
                    "--keras-version", "3", "--exit-zero", str(nb)], check=True,
                   capture_output=True)
    cells = [c["source"] for c in json.loads(nb.read_text())["cells"]]
    assert cells == [["  from keras.layers import SpatialDropout1D, Input, LSTM\n",
                      "  x = SpatialDropout1D(0.2)(Input((30, 8)))\n", "  y = LSTM(4)(x)\n"],
                     [" print(y)"]]


PARTIAL_SHAPES = """\
    import tensorflow as tf
    from tensorflow.keras import layers
    from keras.models import Sequential
    from keras.layers import Dense, Dropout, Embedding, LSTM, MaxoutDense

    def f(n, length, flag, emb):
        tok = layers.Input(shape=(4,))
        token_model = tf.keras.Model(inputs=tok, outputs=layers.Dense(128)(tok))
        chars = layers.Input(shape=(4, 3))
        char_model = tf.keras.Model(chars, layers.Bidirectional(layers.LSTM(25))(chars))
        both = layers.Concatenate()([token_model.output, char_model.output])
        a = layers.Dropout(0.5)(both)
        m1 = Sequential([Embedding(n, emb, input_length=length if length > 0 else None),
                         Dropout(0.1)])
        m2 = Sequential(layers=[Embedding(n, 8), Dropout(rate=0.2), LSTM(4)])
        m3 = Sequential([Embedding(n, 8, input_length=10), Dropout(0.3),
                         *([LSTM(10, return_sequences=True)] if flag else [LSTM(10), Dense(3)]),
                         Dropout(0.4), Dense(1)])
        m4 = Sequential([Dense(8, input_dim=4), MaxoutDense(100), Dropout(0.6)])
    """


def test_partial_shapes_from_models_embeddings_and_keras1_layers():
    """Ranks a reader can tell: `model.output` of a functional model (a part of another
    model, not its output), Embedding first in a Sequential (input_length unknown or
    absent: token ids (batch, length)), the known head of a Sequential list with a starred
    part of unknown length, Keras 1 MaxoutDense (batch, output_dim)."""
    report = check(PARTIAL_SHAPES)
    rows = [(s.line, s.rate, s.input_shape, s.drops) for s in report.sites]
    assert rows == [
        (12, 0.5, [None, 178], "units"),
        (14, 0.1, [None, None, None], "elements"),
        (15, 0.2, [None, None, 8], "elements"),
        (16, 0.3, [None, 10, 8], "elements"),
        (18, 0.4, None, "unknown"),  # after LSTM(return_sequences=True) or Dense(3)
        (19, 0.6, [None, 100], "units")]
    assert not any(f.code == "DL401" and f.line == 12 for f in report.findings)


REAL_PARTIAL = """\
import json
import {mod} as K
L = K.layers
first = K.Sequential([L.Embedding(50, 8), L.Dropout(0.2), L.LSTM(4)])
first.build((None, None))
tok = L.Input(shape=(4,))
tok_model = K.Model(tok, L.Dense(128)(tok))
chars = L.Input(shape=(4, 3))
char_model = K.Model(chars, L.Bidirectional(L.LSTM(25))(chars))
drop = L.Dropout(0.5)
drop(L.Concatenate()([tok_model.output, char_model.output]))
print(json.dumps([list(first.layers[1].input.shape), list(drop.input.shape)]))
"""


@pytest.mark.keras
def test_partial_shapes_match_keras3_and_tf_keras():
    """What test_partial_shapes_from_models_embeddings_and_keras1_layers claims for an
    Embedding first in a Sequential and for `model.output`, built for real."""
    claimed = {s.line: s.input_shape for s in check(PARTIAL_SHAPES).sites}
    expected = [claimed[15], claimed[12]]
    ns: dict = {}
    exec(REAL_PARTIAL.format(mod="keras").replace("print(", "result = ("), ns)
    assert json.loads(ns["result"]) == expected
    assert _tf_keras(REAL_PARTIAL.format(mod="tf_keras")) == expected


def test_user_layer_output_rank_from_its_own_compute_output_shape():
    """A custom attention layer (Kaggle kernels): its call() cannot be traced, but its
    compute_output_shape returns a 2-tuple: the Dropout after it is on rank 2."""
    src = """\
        from keras.layers import Layer, Input, Dense, Dropout, LSTM, Bidirectional

        class Attention(Layer):
            def __init__(self, step_dim, **kwargs):
                self.features_dim = 0
                super().__init__(**kwargs)

            def call(self, x, mask=None):
                return K.sum(x, axis=1)

            def compute_output_shape(self, input_shape):
                return input_shape[0], self.features_dim

        def build(n, dr=0.1):
            x = Bidirectional(LSTM(8, return_sequences=True))(Input((n, 4)))
            return Dropout(dr)(Attention(n)(x))
        """
    assert [(s.line, s.input_shape, s.drops) for s in check(src).sites] == [
        (16, [None, None], "units")]
    unknown = check(src.replace("return input_shape[0], self.features_dim", "return shape"))
    assert [(s.input_shape, s.drops) for s in unknown.sites] == [(None, "unknown")]


def test_a_layer_object_applied_twice_is_two_nodes_and_one_site():
    src = """\
        from keras.layers import Dropout, Input
        drop = Dropout(0.3)
        a = drop(Input((30, 8)))
        b = drop(Input((30, 8)))
        """
    assert [n.kind for n in load(textwrap.dedent(src), "m.py").nodes] == [
        "InputLayer", "Dropout", "InputLayer", "Dropout"]
    sites = check(src).sites
    assert [(s.line, s.input_shape) for s in sites] == [(2, [None, 30, 8])]
    assert "2 identical copies" in sites[0].description
    other = check(src.replace("b = drop(Input((30, 8)))", "b = drop(Input((30, 4)))")).sites
    assert [s.input_shape for s in other] == [[None, 30, 8], [None, 30, 4]]
    assert all("copies" not in s.description for s in other)


ATTENTION_POOL_BRANCHES = """
    from keras import layers, ops
    from keras.layers import Input, LSTM, Dropout, Dense, RepeatVector


    class AdditivePool(layers.Layer):
        def call(self, h):
            return ops.sum(h * self.score(h), axis=1)


    class DotPool(layers.Layer):
        def call(self, h):
            return ops.mean(h, axis=1)


    inp = Input(shape=(None, 16))
    h = LSTM(64, return_sequences=True)(inp)
    if cfg.additive:
        ctx = AdditivePool()(h)
        decoder_in = RepeatVector(10)(ctx)
    else:
        ctx = DotPool()(h)
        decoder_in = RepeatVector(10)(ctx)
    ctx = Dropout(0.3)(ctx)
    out = Dense(1)(ctx)
"""


def test_rank_common_to_both_arms_known_only_from_their_consumers():
    """Each custom pool's output feeds a RepeatVector (rank-2 only): both arms are rank 2
    after the consumer pass, so the Dropout after the undecided `if` is on a rank-2 tensor."""
    graph = load(textwrap.dedent(ATTENTION_POOL_BRANCHES), "m.py")
    dropout = next(n for n in graph.nodes if n.kind == "Dropout")
    assert dropout.inputs == []  # no edge from either arm: only a shape-only link
    assert [a.kind for a in dropout.alternatives] == ["Layer", "Layer"]
    site, = check(ATTENTION_POOL_BRANCHES).to_dict()["sites"]
    assert (site["input_shape"], site["drops"], site["per_sample"], site["over_time"]) == (
        [None, None], "units", True, None)
    assert "rank 2 from the 2 branches" in site["description"]


def test_arms_of_one_known_rank_and_arms_that_disagree():
    """The merged rank is the arms' own when they agree; arms of different ranks give none."""
    src = ATTENTION_POOL_BRANCHES.replace("decoder_in = RepeatVector(10)(ctx)\n    else:",
                                          "decoder_in = LSTM(8)(ctx)\n    else:")
    site, = check(src).to_dict()["sites"]
    assert (site["input_shape"], site["drops"]) == (None, "unknown")
    # the rank known backwards reaches both arms: the pools feed a Dropout then an LSTM
    back = ATTENTION_POOL_BRANCHES.replace("        decoder_in = RepeatVector(10)(ctx)\n", "") \
        .replace("out = Dense(1)(ctx)", "out = LSTM(4)(ctx)")
    graph = load(textwrap.dedent(back), "m.py")
    site, = check(back).to_dict()["sites"]
    assert (site["input_shape"], site["drops"], site["over_time"]) == (
        [None, None, None], "elements", "fresh-each-step")
    pools = [n for n in graph.nodes if n.kind == "Layer"]
    collect_sites(graph, parse("3"))
    assert [len(p.output_shape) for p in pools] == [3, 3]
