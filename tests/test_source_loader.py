"""The source loader (droplint/loaders/source/) and static shapes (droplint/shapes.py).

Each test reads a small program and asserts the exact graph: kinds, edges, shapes, arguments,
spans, call arguments, model outputs. Tests marked "real Keras" build the same thing with the
installed Keras and compare.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from droplint.graph import UNKNOWN, Graph
from droplint.loaders import SourceError
from droplint.loaders.source import SIGNATURES, load
from droplint.shapes import output_shape


def graph(src: str) -> Graph:
    return load(textwrap.dedent(src), "m.py")


def chain(g: Graph) -> list[tuple[str, list[int]]]:
    """Nodes as (kind, indexes of input nodes)."""
    index = {id(n): i for i, n in enumerate(g.nodes)}
    return [(n.kind, [index[id(i)] for i in n.inputs]) for n in g.nodes]


def shapes(g: Graph) -> list:
    return [(n.kind, n.input_shape, n.output_shape) for n in g.nodes]


def offset(src: str, line: int, column: int) -> int:
    lines = src.split("\n")
    return sum(len(x) + 1 for x in lines[:line - 1]) + column - 1


def text(src: str, span) -> str:
    return src[offset(src, span.line, span.column):offset(src, span.end_line, span.end_column)]


def remove(src: str, span) -> str:
    return src[:offset(src, span.line, span.column)] + \
        src[offset(src, span.end_line, span.end_column):]


# ------------------------------------------------------------------------------------------
# Imports: every way of naming a Keras class.

IMPORT_STYLES = [
    ("import keras\nD = keras.layers.Dropout", "keras"),
    ("from keras import layers\nD = layers.Dropout", "keras"),
    ("from keras.layers import Dropout as D", "keras"),
    ("from keras import layers as L\nD = L.Dropout", "keras"),
    ("import keras.layers as kl\nD = kl.Dropout", "keras"),
    ("from keras.layers import *\nD = Dropout", "keras"),
    ("from keras.layers.core import Dropout as D", "keras"),
    ("from keras.src.layers import Dropout as D", "keras"),
    ("import tensorflow as tf\nD = tf.keras.layers.Dropout", "tf.keras"),
    ("import tensorflow as tf\nL = tf.keras.layers\nD = L.Dropout", "tf.keras"),
    ("from tensorflow import keras\nD = keras.layers.Dropout", "tf.keras"),
    ("from tensorflow.keras import layers\nD = layers.Dropout", "tf.keras"),
    ("from tensorflow.keras.layers import Dropout as D", "tf.keras"),
    ("import tensorflow.keras as keras\nD = keras.layers.Dropout", "tf.keras"),
    ("from tensorflow.python.keras.layers import core\nD = core.Dropout", "tf.keras"),
    ("from tensorflow.keras.layers import *\nD = Dropout", "tf.keras"),
    ("import tf_keras\nD = tf_keras.layers.Dropout", "tf_keras"),
    ("from tf_keras import layers\nD = layers.Dropout", "tf_keras"),
]


@pytest.mark.parametrize("prelude,api", IMPORT_STYLES)
def test_import_styles(prelude, api):
    g = graph(prelude + "\nd = D(0.3)\n")
    assert [(lay.kind, lay.args, lay.api) for lay in g.layers] == [("Dropout", {"rate": 0.3}, api)]
    assert g.api == api


def test_keras2_module_paths_and_cudnn():
    g = graph("""
        import tensorflow as tf
        from keras.layers.recurrent import LSTM
        from keras.layers.recurrent_v2 import GRU
        from tensorflow.python.keras.layers.recurrent_v2 import LSTM as LSTM2
        a = LSTM(4)
        b = GRU(5)
        c = LSTM2(6)
        d = tf.compat.v1.keras.layers.CuDNNLSTM(7)
        e = tf.keras.layers.CuDNNGRU(8)
    """)
    assert [(lay.kind, lay.args["units"], lay.api) for lay in g.layers] == [
        ("LSTM", 4, "keras"), ("GRU", 5, "keras"), ("LSTM", 6, "tf.keras"),
        ("CuDNNLSTM", 7, "tf.keras"), ("CuDNNGRU", 8, "tf.keras")]


def test_function_local_import_and_aliases_do_not_leak():
    g = graph("""
        def build():
            from keras import layers as L
            return L.Dropout(0.1)
        def other():
            return L.Dropout(0.2)   # L is not bound here
        build()
        other()
    """)
    assert [lay.args for lay in g.layers] == [{"rate": 0.1}]


def test_not_keras():
    g = graph("""
        import torch.nn as nn
        from mylib import LSTM
        class Dropout:
            def __init__(self, rate):
                self.rate = rate
        a = Dropout(0.5)
        b = nn.Dropout(0.5)
        c = LSTM(3)
        d = GRU(3)  # never imported
        import keras
        keras = object()
        e = keras.layers.Dropout(0.1)  # keras rebound
    """)
    assert g.layers == [] and g.nodes == []


def test_user_keras_layer_named_dropout_is_not_keras_dropout():
    g = graph("""
        import keras
        class Dropout(keras.layers.Layer):
            def call(self, x):
                return x * 2
        x = keras.Input((4,))
        y = Dropout(0.5)(x)
    """)
    assert chain(g) == [("InputLayer", []), ("Layer", [0])]  # call() not traced: opaque


def test_star_import_from_torch_shadows():
    g = graph("""
        from keras.layers import *
        from torch.nn import *
        d = Dropout(0.5)
    """)
    assert g.layers == []


def test_imports_recorded_for_fixes():
    src = textwrap.dedent("""
        import tensorflow as tf
        from tensorflow.keras.layers import (CuDNNLSTM,
                                             Dense as D)
        from keras import layers
        from os import path
    """)
    g = load(src, "m.py")
    got = [(i.module, i.name, i.asname, text(src, i.span), text(src, i.statement).split()[0])
           for i in g.imports]
    assert got == [
        ("", "tensorflow", "tf", "tensorflow", "import"),
        ("tensorflow.keras.layers", "CuDNNLSTM", None, "CuDNNLSTM", "from"),
        ("tensorflow.keras.layers", "Dense", "D", "Dense", "from"),
        ("keras", "layers", None, "layers", "from"),
    ]
    assert text(src, g.imports[1].statement).endswith("Dense as D)")


def test_module_imports_and_callee_recorded_for_fixes():
    src = textwrap.dedent("""
        import tensorflow as tf
        import numpy as np, keras.layers
        from tensorflow import keras
        model = tf.keras.Sequential([tf.compat.v1.keras.layers.CuDNNGRU(16)])
    """)
    g = load(src, "m.py")
    got = [(i.module, i.name, i.asname, text(src, i.span), text(src, i.statement))
           for i in g.imports]
    assert got == [
        ("", "tensorflow", "tf", "tensorflow", "import tensorflow as tf"),
        ("", "keras.layers", None, "keras.layers", "import numpy as np, keras.layers"),
        ("tensorflow", "keras", None, "keras", "from tensorflow import keras")]
    o = g.layers[0].origin
    assert (o.callee, text(src, o.callee_span)) == ("tf.compat.v1.keras.layers.CuDNNGRU",) * 2


def test_dominant_api():
    assert graph("import tf_keras\nimport keras\nx = tf_keras.layers.Dense(1)\n"
                 "y = tf_keras.layers.Dense(1)").api == "tf_keras"
    assert graph("x = 1").api == "keras"


# ------------------------------------------------------------------------------------------
# Construction styles.

def test_sequential_list_with_input_shape():
    g = graph("""
        from tensorflow import keras
        from tensorflow.keras import layers
        model = keras.Sequential([
            layers.LSTM(64, return_sequences=True, input_shape=(30, 8)),
            layers.Dropout(0.2),
            layers.LSTM(32),
            layers.Dense(1),
        ])
    """)
    assert chain(g) == [("LSTM", []), ("Dropout", [0]), ("LSTM", [1]), ("Dense", [2])]
    assert shapes(g) == [
        ("LSTM", (None, 30, 8), (None, 30, 64)), ("Dropout", (None, 30, 64), (None, 30, 64)),
        ("LSTM", (None, 30, 64), (None, 32)), ("Dense", (None, 32), (None, 1))]
    assert [n.context for n in g.nodes] == ["sequential"] * 4
    assert [n.model_output for n in g.nodes] == [False, False, False, True]
    assert g.layers[0].args == {"units": 64, "return_sequences": True, "input_shape": (30, 8)}


def test_sequential_input_first_and_input_layer_first():
    g = graph("""
        import keras
        a = keras.Sequential([keras.Input(shape=(30, 8)), keras.layers.Dropout(0.5)])
        b = keras.Sequential([keras.layers.InputLayer(input_shape=(10, 2)),
                              keras.layers.GaussianNoise(0.1)])
        c = keras.Sequential([keras.layers.Dense(4, batch_input_shape=(16, 3)),
                              keras.layers.AlphaDropout(0.1)])
    """)
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("InputLayer", []),
                        ("GaussianNoise", [2]), ("Dense", []), ("AlphaDropout", [4])]
    assert [n.output_shape for n in g.nodes] == [
        (None, 30, 8), (None, 30, 8), (None, 10, 2), (None, 10, 2), (16, 4), (16, 4)]
    assert [n.model_output for n in g.nodes] == [False, True, False, True, False, True]


def test_add_chain_and_build():
    g = graph("""
        from keras.models import Sequential
        from keras.layers import Embedding, SpatialDropout1D, LSTM, Dense
        model = Sequential()
        model.add(Embedding(1000, 64))
        model.add(SpatialDropout1D(0.2))
        model.add(LSTM(16, dropout=0.2, recurrent_dropout=0.2))
        model.add(Dense(1, activation="sigmoid"))
        model.build((None, 30))
        model.compile(loss="binary_crossentropy")
    """)
    assert chain(g) == [("Embedding", []), ("SpatialDropout1D", [0]), ("LSTM", [1]),
                        ("Dense", [2])]
    assert shapes(g) == [
        ("Embedding", (None, 30), (None, 30, 64)),
        ("SpatialDropout1D", (None, 30, 64), (None, 30, 64)),
        ("LSTM", (None, 30, 64), (None, 16)), ("Dense", (None, 16), (None, 1))]
    assert g.layers[2].args == {"units": 16, "dropout": 0.2, "recurrent_dropout": 0.2}
    assert g.nodes[-1].model_output


def test_functional_nested_calls_and_model_outputs():
    src = """
        from keras.layers import Input, Dropout, LSTM, Dense
        from keras.models import Model
        shape = (30, 8)
        ipt = Input(shape=(shape[0], shape[1]))
        x = Dropout(0.3)(ipt)
        out = Dense(1)(LSTM(10)(x))
        aux = Dense(2)(x)
        model = Model(inputs=ipt, outputs=[out, aux])
    """
    g = graph(src)
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("LSTM", [1]), ("Dense", [2]),
                        ("Dense", [1])]
    assert shapes(g) == [
        ("InputLayer", None, (None, 30, 8)), ("Dropout", (None, 30, 8), (None, 30, 8)),
        ("LSTM", (None, 30, 8), (None, 10)), ("Dense", (None, 10), (None, 1)),
        ("Dense", (None, 30, 8), (None, 30, 2))]
    assert [n.model_output for n in g.nodes] == [False, False, False, True, True]
    assert {n.context for n in g.nodes} == {"functional"}
    assert g.layers[0].args == {"shape": (30, 8)}


def test_layer_object_called_twice_is_two_nodes():
    g = graph("""
        import keras
        drop = keras.layers.Dropout(0.5)
        a = keras.Input((4,))
        b = keras.Input((6,))
        x = drop(a)
        y = drop(b)
    """)
    assert chain(g) == [("InputLayer", []), ("InputLayer", []), ("Dropout", [0]),
                        ("Dropout", [1])]
    assert g.nodes[2].layer is g.nodes[3].layer
    assert [n.output_shape for n in g.nodes[2:]] == [(None, 4), (None, 6)]
    assert len(g.layers) == 3


def test_model_built_in_function_with_defaults():
    g = graph("""
        from keras import layers, models
        def build(n_steps=30, n_features=8, rate=0.25, units=2 * 16):
            inp = layers.Input((n_steps, n_features))
            x = layers.LSTM(units, return_sequences=True)(inp)
            x = layers.Dropout(rate)(x)
            return models.Model(inp, layers.Dense(1)(x))
    """)
    assert shapes(g)[1:] == [("LSTM", (None, 30, 8), (None, 30, 32)),
                             ("Dropout", (None, 30, 32), (None, 30, 32)),
                             ("Dense", (None, 30, 32), (None, 30, 1))]
    assert g.layers[2].args == {"rate": 0.25}
    assert g.nodes[-1].model_output


def test_function_called_with_arguments_uses_them():
    g = graph("""
        from keras import layers, Sequential
        def build(rate=0.1, *, units=4):
            return Sequential([layers.Dense(units, input_shape=(3,)), layers.Dropout(rate)])
        model = build(0.6, units=7)
        model.summary()
    """)
    assert [lay.args for lay in g.layers] == [{"units": 7, "input_shape": (3,)}, {"rate": 0.6}]
    assert shapes(g) == [("Dense", (None, 3), (None, 7)), ("Dropout", (None, 7), (None, 7))]


def test_default_parameter_does_not_prune_branches():
    g = graph("""
        from keras import layers, Sequential
        def build(use_dropout=False):
            m = Sequential([layers.Dense(4, input_shape=(3,))])
            if use_dropout:
                m.add(layers.Dropout(0.5))
            return m
    """)
    assert [lay.kind for lay in g.layers] == ["Dense", "Dropout"]


def test_known_condition_prunes_branch():
    g = graph("""
        from keras import layers
        USE_NOISE = False
        x = layers.Input((3,))
        if USE_NOISE:
            x = layers.GaussianNoise(0.1)(x)
        else:
            x = layers.Dropout(0.1)(x)
        y = layers.Dense(1)(x)
    """)
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("Dense", [1])]


def test_wrappers_and_rnn_cell():
    src = textwrap.dedent("""
        from keras import layers
        x = layers.Input((20, 5))
        a = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
        b = layers.Bidirectional(layers.GRU(8, return_sequences=True), merge_mode="sum")(a)
        c = layers.Bidirectional(layers.GRU(8), merge_mode=None)(b)
        d = layers.TimeDistributed(layers.Dropout(0.5))(b)
        e = layers.TimeDistributed(layers.Dense(3))(d)
        f = layers.RNN(layers.LSTMCell(6, dropout=0.1), return_sequences=True)(e)
    """)
    g = load(src, "m.py")
    assert chain(g) == [("InputLayer", []), ("Bidirectional", [0]), ("Bidirectional", [1]),
                        ("Bidirectional", [2]), ("TimeDistributed", [2]),
                        ("TimeDistributed", [4]), ("RNN", [5])]
    assert [n.output_shape for n in g.nodes] == [
        (None, 20, 5), (None, 20, 16), (None, 20, 8), None, (None, 20, 8), (None, 20, 3),
        (None, 20, 6)]
    wrappers = [lay for lay in g.layers if lay.inner is not None]
    assert [(w.kind, w.inner.kind, w.inner.args) for w in wrappers] == [
        ("Bidirectional", "LSTM", {"units": 8, "return_sequences": True}),
        ("Bidirectional", "GRU", {"units": 8, "return_sequences": True}),
        ("Bidirectional", "GRU", {"units": 8}),
        ("TimeDistributed", "Dropout", {"rate": 0.5}),
        ("TimeDistributed", "Dense", {"units": 3}),
        ("RNN", "LSTMCell", {"units": 6, "dropout": 0.1}),
    ]
    assert wrappers[1].args == {"merge_mode": "sum"} and wrappers[2].args == {"merge_mode": None}
    assert text(src, wrappers[3].origin.inner_span) == "layers.Dropout(0.5)"
    assert text(src, wrappers[3].inner.origin.span) == "layers.Dropout(0.5)"
    # Wrapped layers are reached through .inner, not listed on their own.
    assert [lay.kind for lay in g.layers] == [
        "InputLayer", "Bidirectional", "Bidirectional", "Bidirectional", "TimeDistributed",
        "TimeDistributed", "RNN"]


def test_wrapped_layer_object_from_a_variable():
    g = graph("""
        from keras import layers
        lstm = layers.LSTM(4, dropout=0.2)
        bi = layers.Bidirectional(lstm)
        y = bi(layers.Input((7, 2)))
    """)
    assert [lay.kind for lay in g.layers] == ["Bidirectional", "InputLayer"]
    assert g.layers[0].inner.args == {"units": 4, "dropout": 0.2}
    assert g.nodes[1].output_shape == (None, 8)


SUBCLASSED = """
    import tensorflow as tf
    from tensorflow import keras

    class MCModel(keras.Model):
        def __init__(self, units=32, rate=0.3, **kwargs):
            super().__init__(**kwargs)
            self.lstm = keras.layers.LSTM(units, return_sequences=True)
            self.drop = keras.layers.Dropout(rate)
            self.out = keras.layers.Dense(1)

        def call(self, inputs, training=None):
            x = self.lstm(inputs)
            x = self.drop(x, training=training)
            x = self.drop(x, training=True)
            x = self.drop(x, None)
            return self.out(x)
"""


def test_subclassed_model():
    src = textwrap.dedent(SUBCLASSED)
    g = load(src, "m.py")
    assert chain(g) == [("LSTM", []), ("Dropout", [0]), ("Dropout", [1]), ("Dropout", [2]),
                        ("Dense", [3])]
    assert {n.context for n in g.nodes} == {"subclassed"}
    assert [n.call_args for n in g.nodes] == [
        {}, {"training": "training"}, {"training": True}, {"training": None}, {}]
    assert [text(src, n.call_spans["training"]) for n in g.nodes[1:4]] == [
        "training=training", "training=True", "None"]
    assert [n.model_output for n in g.nodes] == [False] * 4 + [True]
    assert g.layers[1].args == {"rate": 0.3}
    assert g.nodes[1].input_shape == (None, None, 32)


def test_subclassed_layer_outputs_are_not_model_outputs():
    g = graph("""
        import keras
        class Block(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.drop = keras.layers.Dropout(0.5)
            def call(self, x, training=False):
                return self.drop(x, training=training)
    """)
    assert chain(g) == [("Dropout", [])]
    assert not g.nodes[0].model_output
    assert g.nodes[0].call_args == {"training": "training"}


def test_sub_model_outputs_are_not_outermost():
    g = graph("""
        import keras
        from keras import layers
        encoder = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dropout(0.5)])
        model = keras.Sequential([encoder, layers.Dense(1)])
        inp = keras.Input((4,))
        head = keras.Model(inp, layers.Dropout(0.2)(inp))
        out = head(inp)
        full = keras.Model(inp, out)
    """)
    assert chain(g) == [("Dense", []), ("Dropout", [0]), ("Sequential", []), ("Dense", [2]),
                        ("InputLayer", []), ("Dropout", [4]), ("Functional", [4])]
    assert [n.kind for n in g.nodes if n.model_output] == ["Dense", "Functional"]
    assert g.nodes[2].output_shape == (None, 8)


def test_subclassed_model_used_inside_another_is_not_outermost():
    g = graph("""
        import keras
        class Inner(keras.Model):
            def __init__(self):
                super().__init__()
                self.d = keras.layers.Dropout(0.1)
            def call(self, x):
                return self.d(x)
        class Outer(keras.Model):
            def __init__(self):
                super().__init__()
                self.inner = Inner()
                self.dense = keras.layers.Dense(1)
            def call(self, x):
                return self.dense(self.inner(x))
    """)
    assert [(n.kind, n.model_output) for n in g.nodes] == [("Dropout", False), ("Dense", True)]


# ------------------------------------------------------------------------------------------
# Functional dropout ops.

SUBCLASS_IN_GRAPH = """
import keras
from keras import layers

class Encoder(keras.Model):
    def __init__(self, units=16):
        super().__init__()
        self.lstm = layers.LSTM(units, return_sequences=True)
        self.norm = layers.LayerNormalization()
    def call(self, x, training=None):
        return self.norm(self.lstm(x))

inp = keras.Input((30, 8))
enc = Encoder(32)
y = enc(inp)
y = layers.Dropout(0.2)(y)
y = layers.LSTM(4)(y)
model = keras.Model(inp, layers.Dense(1)(y))
"""


def test_subclassed_model_called_in_a_functional_graph_is_inlined():
    import droplint
    g = graph(SUBCLASS_IN_GRAPH)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("LayerNormalization", [1]),
                        ("Dropout", [2]), ("LSTM", [3]), ("Dense", [4])]
    assert g.nodes[1].layer.args == {"units": 32, "return_sequences": True}
    assert g.nodes[3].input_shape == (None, 30, 32)
    assert [n.model_output for n in g.nodes] == [False] * 5 + [True]
    report = droplint.analyze_source(SUBCLASS_IN_GRAPH, "m.py", keras_version="3")
    assert [(f.code, f.line) for f in report.findings if f.code.startswith("DL10")] == [
        ("DL102", 16)]


def test_subclassed_model_called_on_an_input_alone_is_the_outermost_model():
    g = graph(SUBCLASS_IN_GRAPH.split("inp = ")[0] + textwrap.dedent("""
        enc = Encoder()
        out = enc(keras.Input((30, 8)))
    """))
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("LayerNormalization", [1])]
    assert [n.model_output for n in g.nodes] == [False, False, True]


SUBCLASS_INIT = """
import keras
from keras import layers

class MyDropout(layers.Dropout):
    def __init__(self, rate, scale=1, **kwargs):
        super().__init__(rate * scale, **kwargs)

class Opaque(layers.Dropout):
    def __init__(self, p):
        super().__init__(**make_args(p))

class Twice(layers.LSTM):
    def __init__(self, units):
        if units > 8:
            super().__init__(units, dropout=0.1)
        else:
            super().__init__(units)

class Child(MyDropout):
    def __init__(self):
        super().__init__(0.3, noise_shape=(None, 1, 8))

x = keras.Input((30, 8))
a = MyDropout(0.25, scale=2, seed=3)(x)
b = Opaque(0.1)(x)
c = Twice(n)(x)
d = Child()(x)
e = layers.LSTM(4, return_sequences=True)(x)
f = MyDropout(0.2)(e)
g = layers.LSTM(4)(f)
"""


def test_keras_layer_subclass_with_its_own_init_gets_the_super_call_arguments():
    import droplint
    g = graph(SUBCLASS_INIT)
    drops = [(lay.kind, lay.args) for lay in g.layers if lay.kind != "InputLayer"]
    hidden = {k: UNKNOWN for k in ("rate", "noise_shape", "seed", "stddev", "dropout",
                                   "recurrent_dropout", "return_sequences")}
    assert drops[0] == ("Dropout", {"rate": 0.5, "seed": 3})
    assert drops[1][0] == "Dropout" and all(drops[1][1][k] is UNKNOWN for k in hidden)
    assert drops[2][0] == "LSTM" and drops[2][1]["dropout"] is UNKNOWN  # two super calls
    assert drops[3] == ("Dropout", {"rate": 0.3, "noise_shape": (None, 1, 8)})
    assert all(lay.origin.name_span is None for lay in g.layers[1:5])  # no class renaming
    report = droplint.analyze_source(SUBCLASS_INIT, "m.py", keras_version="3")
    found = [(f.code, f.line, f.fix) for f in report.findings if f.code == "DL102"]
    assert found == [("DL102", 30, None)]  # found, but MyDropout is not renamed


BLOCK_BASES = [
    ("import keras\nBase = keras.layers.Layer", "keras"),
    ("from keras import layers\nBase = layers.Layer", "keras"),
    ("from keras.layers import Layer as Base", "keras"),
    ("from keras.layers import *\nBase = Layer", "keras"),
    ("import tensorflow as tf\nBase = tf.keras.layers.Layer", "tf.keras"),
    ("from tensorflow.keras import layers\nBase = layers.Layer", "tf.keras"),
    ("import tf_keras\nBase = tf_keras.layers.Layer", "tf_keras"),
    ("import keras\nclass Base(keras.layers.Layer):\n    pass", "keras"),
]
BLOCK = """
import keras
from keras import layers

class Block(Base):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.lstm = layers.LSTM(units, return_sequences=True)
        self.drop = layers.Dropout(0.3)
    def call(self, x, training=None):
        return self.drop(self.lstm(x), training=training)
"""


@pytest.mark.parametrize("prelude,api", BLOCK_BASES)
def test_layer_subclass_called_in_a_functional_graph_is_inlined(prelude, api):
    g = graph(prelude + BLOCK + textwrap.dedent("""
        inp = keras.Input((30, 8))
        x = layers.Dropout(0.2)(inp)
        x = Block(16)(x)
        x = layers.LSTM(4)(x)
        model = keras.Model(inp, layers.Dense(1)(x))
    """))
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("LSTM", [1]), ("Dropout", [2]),
                        ("LSTM", [3]), ("Dense", [4])]
    assert shapes(g)[2:5] == [("LSTM", (None, 30, 8), (None, 30, 16)),
                              ("Dropout", (None, 30, 16), (None, 30, 16)),
                              ("LSTM", (None, 30, 16), (None, 4))]
    assert [n.context for n in g.nodes][2:4] == ["subclassed"] * 2
    assert g.nodes[3].call_args == {"training": "training"}
    assert [n.model_output for n in g.nodes] == [False] * 5 + [True]
    assert "Layer" not in [lay.kind for lay in g.layers]  # no opaque layer left behind


def test_layer_subclass_in_a_sequential_model_is_inlined():
    g = graph("from keras import layers\nBase = layers.Layer\n" + BLOCK + textwrap.dedent("""
        listed = keras.Sequential([layers.Input((30, 8)), layers.Dropout(0.2), Block(12)])
        added = keras.Sequential()
        added.add(layers.Embedding(100, 8))
        added.add(Block(6))
        added.add(layers.GRU(3))
        added.build((None, 20))
    """))
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("LSTM", [1]), ("Dropout", [2]),
                        ("Embedding", []), ("LSTM", [4]), ("Dropout", [5]), ("GRU", [6])]
    assert [n.output_shape for n in g.nodes] == [
        (None, 30, 8), (None, 30, 8), (None, 30, 12), (None, 30, 12),
        (None, 20, 8), (None, 20, 6), (None, 20, 6), (None, 3)]  # build() reaches the block
    assert [n.model_output for n in g.nodes] == [False, False, False, True] + \
        [False] * 3 + [True]  # the block's Dropout ends `listed`


def test_layer_subclass_inside_another_subclass_is_inlined_and_built_once():
    src = textwrap.dedent("""
        import tensorflow as tf
        L = tf.keras.layers
        class Block(L.Layer):
            def __init__(self, units):
                super().__init__()
                self.lstm = L.LSTM(units, return_sequences=True)
                self.drop = L.Dropout(0.3)
            def call(self, x):
                return self.drop(self.lstm(x))
        class Outer(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.block = Block(16)
                self.gru = L.GRU(4)
            def call(self, x):
                return self.gru(self.block(x))
    """)
    read_alone = graph(src)  # Outer read at the end; Block waits to be built by it
    built = graph(src + "m = Outer()\nm.build((None, 30, 8))\n")
    called = graph(src + "y = Outer()(tf.keras.Input((30, 8)))\n")
    for g in (read_alone, built):
        assert chain(g) == [("LSTM", []), ("Dropout", [0]), ("GRU", [1])]
        assert [n.model_output for n in g.nodes] == [False, False, True]
    assert chain(called) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("GRU", [2])]
    assert shapes(built) == [("LSTM", (None, 30, 8), (None, 30, 16)),
                             ("Dropout", (None, 30, 16), (None, 30, 16)),
                             ("GRU", (None, 30, 16), (None, 4))]
    assert shapes(called)[1:] == shapes(built)
    for g in (read_alone, built, called):
        assert sorted(lay.kind for lay in g.layers if lay.kind != "InputLayer") == [
            "Dropout", "GRU", "LSTM"]  # each built once


def test_layer_subclass_applied_twice_and_built_in_build():
    g = graph("""
        import keras
        from keras import layers
        class Proj(layers.Layer):
            def build(self, input_shape):
                self.dense = layers.Dense(input_shape[-1] * 2)
            def call(self, x):
                return self.dense(x)
        inp = keras.Input((5, 3))
        proj = Proj()
        a = proj(inp)
        b = proj(layers.Dense(3)(inp))
        model = keras.Model(inp, layers.Concatenate()([a, b]))
    """)
    assert chain(g) == [("InputLayer", []), ("Dense", [0]), ("Dense", [0]), ("Dense", [2]),
                        ("Concatenate", [1, 3])]
    assert g.nodes[1].layer is g.nodes[3].layer  # one instance: its layers built once
    assert g.nodes[1].layer.args == {"units": 6}  # build() saw the first input's shape
    assert g.nodes[4].output_shape == (None, 5, 12)
    assert [lay.kind for lay in g.layers] == ["Dense", "InputLayer", "Dense", "Concatenate"]


def test_layer_subclass_not_traced_stays_one_opaque_node():
    g = graph("""
        import keras
        import tensorflow as tf
        from keras.layers import Layer, LSTM, Dropout, Dense, Input
        class Unknown(Layer):
            def __init__(self):
                super().__init__()
                self.lstm = LSTM(8, return_sequences=True)
            def call(self, x):
                return tf.nn.relu(self.lstm(x))
        class Branchy(Layer):
            def __init__(self):
                super().__init__()
                self.drop = Dropout(0.1)
            def call(self, x, training=None):
                if training:
                    x = self.drop(x)
                return x
        class Nothing(Layer):
            def call(self, x):
                pass
        inp = Input((30, 8))
        a = Unknown()(inp)
        b = Branchy()(a)
        model = keras.Model(inp, Dense(1)(Nothing()(b)))
    """)
    # Each block whose result is not known keeps its node; what its call() did is kept too
    # (the LSTM does read the input), and nothing links its inner layers to its consumer.
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Layer", [0]), ("Dropout", [2]),
                        ("Layer", [2]), ("Layer", [4]), ("Dense", [5])]
    assert [n.output_shape for n in g.nodes[2:6:]] == [None, None, None, None]
    assert [lay.kind for lay in g.layers].count("Layer") == 3


BLOCK_RULES = """\
import keras
from keras import layers


class Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.lstm = layers.LSTM(units, return_sequences=True, dropout=0.2)
        self.norm = layers.LayerNormalization()

    def call(self, x):
        return self.norm(self.lstm(x))


class Head(layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.drop = layers.Dropout(0.5)

    def call(self, x):
        return self.drop(self.dense(x))


inp = keras.Input((30, 8))
x = layers.Dropout(0.3)(inp)
x = Block(16)(x)
x = layers.GlobalAveragePooling1D()(x)
"""


def test_rules_see_through_a_layer_subclass():
    import droplint
    ends = BLOCK_RULES + "model = keras.Model(inp, Head()(x))\n"
    report = droplint.analyze_source(ends, "m.py", keras_version="3")
    # The Dropout feeds the block's LSTM (3-D, with its own dropout); the head's Dropout is
    # the model's output.
    assert [(f.code, f.line) for f in report.findings] == [
        ("DL401", 19), ("DL101", 26), ("DL305", 26)]


def test_dropout_ending_a_layer_subclass_is_an_output_only_where_the_model_ends():
    import droplint
    inside = BLOCK_RULES + "model = keras.Model(inp, layers.Dense(1)(Head()(x)))\n"
    report = droplint.analyze_source(inside, "m.py", keras_version="3")
    assert [(f.code, f.line) for f in report.findings] == [("DL101", 26), ("DL305", 26)]


_RECORD_SCRIPT = """
import json, sys
import numpy as np
import keras
seen = []
original = keras.layers.Layer.__call__
def record(self, *args, **kwargs):  # every layer applied eagerly, with its output shape
    out = original(self, *args, **kwargs)
    if hasattr(out, "shape") and not isinstance(out, keras.KerasTensor):
        seen.append((type(self).__name__, [None] + list(out.shape)[1:]))
    return out
keras.layers.Layer.__call__ = record
namespace = {}
exec(compile(sys.argv[1], "program", "exec"), namespace)
result = {}
for name, shape in json.loads(sys.argv[2]).items():
    seen.clear()
    namespace[name](np.zeros([2] + shape, "float32"))
    result[name] = seen[:]
print(json.dumps(result))
"""
NESTED_BLOCKS = """
import keras
from keras import layers

class Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv1D(units, 3, padding="same")
        self.lstm = layers.LSTM(units, return_sequences=True)
        self.drop = layers.Dropout(0.2)
    def call(self, x, training=None):
        y = self.lstm(self.conv(x))
        return self.drop(y, training=training)

class Stack(layers.Layer):
    def __init__(self):
        super().__init__()
        self.first = Block(12)
        self.pool = layers.MaxPooling1D(2)
        self.second = Block(6)
    def call(self, x):
        return self.second(self.pool(self.first(x)))

inp = keras.Input((30, 8))
x = layers.Dropout(0.1)(inp)
x = Stack()(x)
x = layers.GRU(4)(x)
model = keras.Model(inp, layers.Dense(1)(x))
seq = keras.Sequential([layers.Input((20, 5)), Block(7), layers.Flatten(), layers.Dense(2)])
"""


@pytest.mark.keras
def test_layer_subclasses_agree_with_real_keras():
    """Run the program with Keras 3 (in a subprocess: it patches Layer.__call__) and compare
    every Keras layer applied, in order, with its output shape, to the loader's nodes."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    inputs = {"model": [30, 8], "seq": [20, 5]}
    out = subprocess.run([sys.executable, "-c", _RECORD_SCRIPT, NESTED_BLOCKS,
                          json.dumps(inputs)], capture_output=True, text=True, env=env,
                         check=True).stdout
    real = json.loads(out.strip().splitlines()[-1])
    applied = [(kind, tuple(shape)) for name in inputs for kind, shape in real[name]
               if kind not in ("Block", "Stack", "Functional", "Sequential")]
    g = load(NESTED_BLOCKS, "m.py")
    assert [(n.kind, n.output_shape) for n in g.nodes if n.kind != "InputLayer"] == applied
    assert [n.kind for n in g.nodes if n.model_output] == ["Dense", "Dense"]
    assert len(g.layers) == len({id(n.layer) for n in g.nodes})  # every layer once, applied


def test_functional_dropout_calls():
    src = textwrap.dedent("""
        import tensorflow as tf
        import keras
        from keras import backend as K

        class L(keras.layers.Layer):
            def call(self, x, training=None):
                a = tf.nn.dropout(x, 0.5)
                if training:
                    b = tf.nn.dropout(x, rate=0.5)
                c = keras.random.dropout(x, 0.5) if training else x
                d = tf.cond(training, lambda: K.dropout(x, 0.5), lambda: x)
                e = K.in_train_phase(K.dropout(x, 0.5), x)
                if not training:
                    return x
                return tf.keras.backend.dropout(x, 0.5)

        def f(x):
            return tf.nn.dropout(x, 0.1)
    """)
    g = load(src, "m.py")
    got = [(c.func, c.in_call, c.guarded, text(src, c.span).split("(")[0]) for c in g.calls]
    assert got == [
        ("tf.nn.dropout", True, False, "tf.nn.dropout"),
        ("tf.nn.dropout", True, True, "tf.nn.dropout"),
        ("keras.random.dropout", True, True, "keras.random.dropout"),
        ("keras.backend.dropout", True, True, "K.dropout"),
        ("keras.backend.dropout", True, True, "K.dropout"),
        ("tf.keras.backend.dropout", True, True, "tf.keras.backend.dropout"),
        ("tf.nn.dropout", False, False, "tf.nn.dropout"),
    ]


# ------------------------------------------------------------------------------------------
# Control flow: sound, never an invented edge.

def test_loop_over_known_values_is_unrolled():
    g = graph("""
        import keras
        from keras import layers
        model = keras.Sequential([keras.Input((30, 8))])
        for units in (64, 32):
            model.add(layers.LSTM(units, return_sequences=True))
            model.add(layers.Dropout(0.2))
        model.add(layers.Dense(1))
    """)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("LSTM", [2]),
                        ("Dropout", [3]), ("Dense", [4])]
    assert [(lay.kind, lay.args.get("units")) for lay in g.layers] == [
        ("InputLayer", None), ("LSTM", 64), ("LSTM", 32), ("Dropout", None), ("Dense", 1)]
    assert g.nodes[2].layer is g.nodes[4].layer  # the same arguments: one Layer, two nodes
    assert g.nodes[3].output_shape == (None, 30, 32)
    assert g.nodes[-1].model_output
    assert not g.notes


LOOP_SEQUENTIAL = """
import keras
from keras.layers import LSTM, Dropout, Dense
model = keras.Sequential([keras.Input((30, 8))])
for _ in range({n}):
    model.add(LSTM(16, return_sequences=True))
    model.add(Dropout(0.2))
model.add(Dense(1))
"""

LOOP_FUNCTIONAL = """
import keras
from keras import layers
x = inp = keras.Input((30, 8))
for i in range({n}):
    x = layers.LSTM(16, return_sequences=True)(x)
    x = layers.Dropout(0.2)(x)
model = keras.Model(inp, layers.Dense(1)(x))
"""


@pytest.mark.parametrize("template", [LOOP_SEQUENTIAL, LOOP_FUNCTIONAL])
def test_loop_with_a_known_count_links_iterations(template):
    import droplint
    g = graph(template.format(n=3))
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("LSTM", [2]),
                        ("Dropout", [3]), ("LSTM", [4]), ("Dropout", [5]), ("Dense", [6])]
    assert len(g.layers) == 4  # LSTM and Dropout: one Layer each, applied three times
    assert g.nodes[-1].output_shape == (None, 30, 1)
    report = droplint.analyze_source(template.format(n=3), "m.py", keras_version="3")
    dl102 = [f for f in report.findings if f.code == "DL102"]
    assert [(f.line, f.layer) for f in dl102] == [(7, "Dropout")]  # one finding, not two
    once = droplint.analyze_source(template.format(n=1), "m.py", keras_version="3")
    assert "DL102" not in [f.code for f in once.findings]


@pytest.mark.parametrize("template", [LOOP_SEQUENTIAL, LOOP_FUNCTIONAL])
def test_loop_with_a_large_known_count_runs_twice(template):
    import droplint
    g = graph(template.format(n=100))
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("LSTM", [2]),
                        ("Dropout", [3]), ("Dense", [4])]
    assert g.nodes[-1].output_shape == (None, 30, 1)  # a fixed point: shapes kept
    report = droplint.analyze_source(template.format(n=100), "m.py", keras_version="3")
    assert [f.line for f in report.findings if f.code == "DL102"] == [7]


def test_loop_with_an_unknown_count_invents_no_edge_between_iterations():
    import droplint
    src = LOOP_FUNCTIONAL.format(n="n")
    g = graph(src)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("Dense", [])]
    assert g.notes
    report = droplint.analyze_source(src, "m.py", keras_version="3")
    assert "DL102" not in [f.code for f in report.findings]
    g = graph(LOOP_FUNCTIONAL.format(n=3).replace("    x = layers.Dropout",
                                                  "    if i == j:\n        break\n"
                                                  "    x = layers.Dropout"))
    assert ("LSTM", [2]) not in chain(g)  # break: the count is not known


def test_loop_count_from_a_default_parameter_is_not_known():
    g = graph("""
        import keras
        from keras import layers
        def build(n=3):
            x = inp = keras.Input((30, 8))
            for _ in range(n):
                x = layers.LSTM(16, return_sequences=True)(x)
                x = layers.Dropout(0.2)(x)
            return keras.Model(inp, x)
    """)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1])]


def test_unrolled_loop_shapes_and_arguments_per_iteration():
    g = graph("""
        import keras
        from keras import layers
        x = keras.Input((32, 3))
        for i in range(3):
            x = layers.Bidirectional(layers.LSTM(2 ** i, return_sequences=True))(x)
            x = layers.MaxPooling1D(2)(x)
        y = x
        for k in range(40):
            y = layers.MaxPooling1D(2, padding="same")(y)   # changes shape each time
        z = layers.Dense(1)(y)
    """)
    bidi = [n for n in g.nodes if n.kind == "Bidirectional"]
    assert [n.layer.inner.args["units"] for n in bidi] == [1, 2, 4]
    assert len({id(n.layer) for n in bidi}) == 3
    assert [n.output_shape for n in bidi] == [(None, 32, 2), (None, 16, 4), (None, 8, 8)]
    pools = [n for n in g.nodes if n.kind == "MaxPooling1D"]
    assert [n.output_shape for n in pools[3:]] == [(None, 2, 8), (None, 1, 8)]
    dense = g.nodes[-1]
    assert dense.inputs == [pools[-1]] and dense.input_shape is None  # not a fixed point


def test_loop_that_may_not_run_leaves_input_unknown():
    g = graph("""
        import keras
        x = keras.Input((30, 8))
        for units in sizes:
            x = keras.layers.LSTM(units, return_sequences=True)(x)
        y = keras.layers.Dropout(0.2)(x)
    """)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [])]
    # no edge (the loop may not run), but rank 3 and the 30 steps hold either way
    assert g.nodes[2].input_shape == (None, 30, None)


def test_ambiguous_producer_gives_no_edge_but_keeps_a_common_shape():
    g = graph("""
        import keras
        x = keras.Input((30, 8))
        if flag:
            x = keras.layers.Dropout(0.1)(x)
        else:
            x = keras.layers.GaussianNoise(0.1)(x)
        y = keras.layers.LSTM(4)(x)
        z = keras.layers.LSTM(4)(x if flag else y)
    """)
    assert chain(g) == [("InputLayer", []), ("Dropout", [0]), ("GaussianNoise", [0]),
                        ("LSTM", []), ("LSTM", [])]
    assert g.nodes[3].input_shape == (None, 30, 8)
    assert g.nodes[4].input_shape is None


def test_one_sided_branch_and_early_return():
    g = graph("""
        import keras
        def build(x, flag):
            if flag:
                return keras.layers.Dense(1)(x)
            x = keras.layers.Dropout(0.5)(x)
            return x
        inp = keras.Input((3,))
        if __name__ == "__main__":
            out = build(inp, True)
        z = keras.layers.Dense(2)(out)
    """)
    # Inlined with flag=True: the Dropout after the return never runs.
    assert chain(g) == [("InputLayer", []), ("Dense", [0]), ("Dense", [1])]


def test_conditional_sequential_add_stops_the_chain():
    g = graph("""
        import keras
        m = keras.Sequential([keras.layers.Dense(4, input_shape=(3,))])
        if cond:
            m.add(keras.layers.Dropout(0.5))
        m.add(keras.layers.Dense(1))
    """)
    assert chain(g) == [("Dense", []), ("Dropout", [0]), ("Dense", [])]
    assert g.nodes[2].model_output


# ------------------------------------------------------------------------------------------
# Values.

def test_values():
    g = graph("""
        import keras
        from keras import layers
        RATE = 0.1 + 0.2
        T, F = 30, 8
        CFG = {"units": 16, "drop": {"rate": 0.4}}
        shape = (T, F)
        def build(k=2):
            units = CFG["units"] * k
            return [
                layers.Dropout(-RATE),
                layers.Dropout(rate=CFG["drop"]["rate"], noise_shape=(None, 1, shape[1])),
                layers.LSTM(units // 3, dropout=RATE / 2, return_sequences=not False),
                layers.Dropout(unknown_name),
                layers.Dropout(RATE, noise_shape=(None, 1, x.shape[2])),
                layers.Dense(**{"units": 3, "activation": "relu"}),
                layers.LSTM(4, **kwargs),
                layers.Reshape(target_shape=[T * F]),
                layers.Dropout(0.1, None, 7),
            ]
    """)
    args = [lay.args for lay in g.layers]
    assert args[:6] == [
        {"rate": -(0.1 + 0.2)},
        {"rate": 0.4, "noise_shape": (None, 1, 8)},
        {"units": 10, "dropout": (0.1 + 0.2) / 2, "return_sequences": True},
        {"rate": UNKNOWN},
        {"rate": 0.1 + 0.2, "noise_shape": (None, 1, UNKNOWN)},
        {"units": 3, "activation": "relu"},
    ]
    assert args[6]["units"] == 4 and args[6]["dropout"] is UNKNOWN \
        and args[6]["recurrent_dropout"] is UNKNOWN and args[6]["return_sequences"] is UNKNOWN
    assert args[7] == {"target_shape": [240]}
    assert args[8] == {"rate": 0.1, "noise_shape": None, "seed": 7}


def test_class_constants_and_tensor_shapes():
    g = graph("""
        import keras
        class Config:
            RATE = 0.3
            STEPS = 12
        inp = keras.Input((Config.STEPS, 5))
        x = keras.layers.Dropout(Config.RATE, noise_shape=(None, 1, inp.shape[-1]))(inp)
        y = keras.layers.Reshape((inp.shape[1] * 5,))(x)
    """)
    assert g.layers[1].args == {"rate": 0.3, "noise_shape": (None, 1, 5)}
    assert g.nodes[2].output_shape == (None, 60)


def test_positional_arguments_mapped():
    g = graph("""
        from keras import layers
        layers.GaussianNoise(0.2, 3)
        layers.GaussianDropout(0.2)
        layers.AlphaDropout(0.1, (None, 1, 4), 9)
        layers.SpatialDropout2D(0.3, "channels_first")
        layers.GRU(8, "relu", "sigmoid")
        layers.SimpleRNN(8, "tanh")
        layers.Conv1D(4, 3, 2, "same")
        layers.Embedding(100, 16)
        layers.Masking(0.0)
        layers.Activation("relu")
        layers.MaxPooling1D(2, 1, "same")
        layers.Concatenate(1)
        layers.RepeatVector(5)
        layers.Input((3,), 32)
    """)
    assert [(lay.kind, lay.args) for lay in g.layers] == [
        ("GaussianNoise", {"stddev": 0.2, "seed": 3}),
        ("GaussianDropout", {"rate": 0.2}),
        ("AlphaDropout", {"rate": 0.1, "noise_shape": (None, 1, 4), "seed": 9}),
        ("SpatialDropout2D", {"rate": 0.3, "data_format": "channels_first"}),
        ("GRU", {"units": 8, "activation": "relu", "recurrent_activation": "sigmoid"}),
        ("SimpleRNN", {"units": 8, "activation": "tanh"}),
        ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("Embedding", {"input_dim": 100, "output_dim": 16}),
        ("Masking", {"mask_value": 0.0}),
        ("Activation", {"activation": "relu"}),
        ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "same"}),
        ("Concatenate", {"axis": 1}),
        ("RepeatVector", {"n": 5}),
        ("InputLayer", {"shape": (3,), "batch_size": 32}),
    ]
    assert g.nodes[0].output_shape == (32, 3)


# ------------------------------------------------------------------------------------------
# Spans.

def test_spans():
    src = textwrap.dedent("""\
        from keras import layers
        é = 1; d = layers.Dropout(0.3, noise_shape=(None, 1, 8), seed=1)
        l = layers.LSTM(
            64,
            dropout=0.2,  # note
            recurrent_dropout=0.1,
        )
        s = layers.SpatialDropout1D(rate=0.2,)
    """)
    g = load(src, "m.py")
    d, lstm, s = g.layers
    assert (d.origin.span.line, d.origin.span.column) == (2, 12)  # columns in characters
    assert text(src, d.origin.span) == "layers.Dropout(0.3, noise_shape=(None, 1, 8), seed=1)"
    assert text(src, d.origin.name_span) == "Dropout"
    assert {k: text(src, v) for k, v in d.origin.arg_spans.items()} == {
        "rate": "0.3", "noise_shape": "noise_shape=(None, 1, 8)", "seed": "seed=1"}
    assert {k: text(src, v) for k, v in d.origin.arg_value_spans.items()} == {
        "rate": "0.3", "noise_shape": "(None, 1, 8)", "seed": "1"}
    line2 = {k: remove(src, v).split("\n")[1] for k, v in d.origin.arg_removal_spans.items()}
    assert line2 == {
        "rate": "é = 1; d = layers.Dropout(noise_shape=(None, 1, 8), seed=1)",
        "noise_shape": "é = 1; d = layers.Dropout(0.3, seed=1)",
        "seed": "é = 1; d = layers.Dropout(0.3, noise_shape=(None, 1, 8))"}
    assert text(src, lstm.origin.span).startswith("layers.LSTM(\n") and \
        (lstm.origin.span.line, lstm.origin.span.end_line) == (3, 7)
    without = remove(src, lstm.origin.arg_removal_spans["dropout"])
    assert without.split("\n")[2:6] == ["l = layers.LSTM(", "    64,",
                                        "    recurrent_dropout=0.1,", ")"]
    without = remove(src, lstm.origin.arg_removal_spans["recurrent_dropout"])
    assert without.split("\n")[4:6] == ["    dropout=0.2,  # note", ")"]
    assert remove(src, s.origin.arg_removal_spans["rate"]).split("\n")[7] == \
        "s = layers.SpatialDropout1D()"
    for layer in g.layers:
        for span in layer.origin.arg_removal_spans.values():
            compile(remove(src, span), "m.py", "exec")


def test_parenthesized_values_and_calls():
    src = "import keras\nx = (keras.layers.Dropout((0.5)))\n"
    g = load(src, "m.py")
    assert text(src, g.layers[0].origin.span) == "keras.layers.Dropout((0.5))"
    assert text(src, g.layers[0].origin.arg_value_spans["rate"]) == "(0.5)"
    assert g.layers[0].args == {"rate": 0.5}


# ------------------------------------------------------------------------------------------
# Errors and robustness.

def test_syntax_error():
    with pytest.raises(SourceError) as info:
        load("import keras\nx = keras.layers.Dropout(0.5\ny = 1 +\n", "bad.py")
    err = info.value
    assert err.message.startswith("SyntaxError: ")
    assert (err.line, err.column) == (2, 25)
    with pytest.raises(SourceError) as info:
        load("a = 1\nb = )\n", "bad.py")
    assert (info.value.line, info.value.message) == (2, "SyntaxError: unmatched ')'")


def test_odd_code_does_not_crash():
    g = graph("""
        import keras
        async def f():
            async with a as b:
                await keras.layers.Dropout(0.1)(await x)
            yield [keras.layers.Dense(i) for i in range(3) if i]
            return {**{}, "a": 1}
        match cmd:
            case 1:
                d = keras.layers.Dropout(0.2)
            case _:
                pass
        try:
            m = keras.layers.LSTM(1)
        except Exception as e:
            raise
        finally:
            pass
        while True:
            x = keras.layers.GRU(2)
            break
        print(f"{keras.layers.Dense(9)}")
        lambda t: keras.layers.Dense(8)(t)
        x = y = z = (1, 2)[5]
        del x
        global q
        a: int = 1 / 0
        b = 2 ** 4000
        b += 1
        [c, *d] = 1, 2, 3
        (e := 5)
    """)
    assert sorted(lay.kind for lay in g.layers) == ["Dense", "Dense", "Dense", "Dropout",
                                                    "Dropout", "GRU", "LSTM"]


def test_never_imports_keras_or_tensorflow():
    code = textwrap.dedent("""
        import sys
        from droplint.loaders.source import load
        load(open(sys.argv[1]).read(), "m.py")
        bad = [m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow", "tf_keras")]
        print(bad)
    """)
    sample = Path(__file__).with_name("_sample_source.tmp")
    sample.write_text(textwrap.dedent(SUBCLASSED))
    try:
        out = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True,
                             text=True, check=True).stdout
    finally:
        sample.unlink()
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------
# Shapes against real Keras.

SHAPE_CASES = [
    ("Embedding", {"input_dim": 50, "output_dim": 7}, [(None, 12)], None),
    ("LSTM", {"units": 5, "return_sequences": True}, [(None, 12, 3)], None),
    ("GRU", {"units": 5}, [(None, 12, 3)], None),
    ("SimpleRNN", {"units": 5, "return_sequences": True}, [(None, None, 3)], None),
    ("Dense", {"units": 4}, [(None, 12, 3)], None),
    ("Conv1D", {"filters": 6, "kernel_size": 3}, [(None, 12, 3)], None),
    ("Conv1D", {"filters": 6, "kernel_size": 4, "strides": 3, "padding": "same"},
     [(None, 13, 3)], None),
    ("Conv1D", {"filters": 6, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
     [(None, 13, 3)], None),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 1},
     [(None, 12, 3)], None),
    ("MaxPooling1D", {}, [(None, 13, 3)], None),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, [(None, 13, 3)],
     None),
    ("GlobalMaxPooling1D", {}, [(None, 13, 3)], None),
    ("GlobalAveragePooling1D", {"keepdims": True}, [(None, 13, 3)], None),
    ("Flatten", {}, [(None, 13, 3)], None),
    ("Reshape", {"target_shape": (3, -1)}, [(None, 4, 6)], None),
    ("RepeatVector", {"n": 4}, [(None, 6)], None),
    ("Permute", {"dims": (2, 1)}, [(None, 4, 6)], None),
    ("Concatenate", {}, [(None, 4, 6), (None, 4, 2)], None),
    ("Concatenate", {"axis": 1}, [(None, 4, 6), (None, 3, 6)], None),
    ("Dropout", {"rate": 0.5}, [(None, 4, 6)], None),
    ("SpatialDropout1D", {"rate": 0.5}, [(None, 4, 6)], None),
    ("Masking", {}, [(None, 4, 6)], None),
    ("BatchNormalization", {}, [(None, 4, 6)], None),
    ("Bidirectional", {}, [(None, 9, 3)], ("LSTM", {"units": 5, "return_sequences": True})),
    ("Bidirectional", {"merge_mode": "ave"}, [(None, 9, 3)], ("GRU", {"units": 5})),
    ("TimeDistributed", {}, [(None, 9, 3)], ("Dense", {"units": 2})),
    ("Conv2D", {"filters": 4, "kernel_size": (3, 2), "padding": "valid"}, [(None, 9, 8, 3)],
     None),
    ("MaxPooling2D", {"pool_size": (2, 3)}, [(None, 9, 8, 3)], None),
]


@pytest.mark.keras
def test_shapes_match_real_keras():
    """shapes.output_shape agrees with Keras 3's compute_output_spec on every case."""
    import keras

    from droplint.graph import Layer, Origin

    for kind, args, in_shapes, inner in SHAPE_CASES:
        inner_layer = Layer(inner[0], inner[1], Origin("t")) if inner else None
        ours = output_shape(kind, args, in_shapes, inner_layer)
        kargs = dict(args)
        if inner:
            kargs["layer"] = getattr(keras.layers, inner[0])(**inner[1])
        layer = getattr(keras.layers, kind)(**kargs)
        tensors = [keras.KerasTensor(s) for s in in_shapes]
        out = layer.compute_output_spec(tensors if len(tensors) > 1 else tensors[0])
        assert ours == tuple(out.shape), (kind, args)


def test_shapes_unknown_stays_unknown():
    assert output_shape("Dense", {"units": 3}, [None]) is None
    assert output_shape("LSTM", {"units": UNKNOWN}, [(None, 4, 2)]) == (None, None)
    assert output_shape("LSTM", {"units": 3, "return_sequences": UNKNOWN}, [(None, 4, 2)]) \
        is None
    assert output_shape("LSTM", {"units": 3}, [None]) == (None, 3)
    assert output_shape("Lambda", {}, [(None, 3)]) is None
    assert output_shape("Reshape", {"target_shape": UNKNOWN}, [(None, 3)]) is None


# ------------------------------------------------------------------------------------------
# Signatures against real Keras 3 and tf.keras 2.

_SIGNATURE_SCRIPT = """
import inspect, json, os, sys
if os.environ.get("TF_USE_LEGACY_KERAS"):
    import tf_keras as keras
else:
    import keras
out = {}
for name in json.loads(sys.argv[1]):
    obj = keras.Input if name == "Input" else getattr(keras.layers, name, None)
    if obj is None:
        continue
    fn = obj if name == "Input" else obj.__init__
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
    out[name] = [p.name for p in params]
print(json.dumps(out))
"""


@pytest.mark.keras
@pytest.mark.parametrize("legacy", [False, True], ids=["keras3", "tf_keras"])
def test_positional_signatures_match_keras(legacy):
    names = sorted(SIGNATURES)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    out = subprocess.run([sys.executable, "-c", _SIGNATURE_SCRIPT, json.dumps(names)],
                         capture_output=True, text=True, env=env, check=True).stdout
    real = json.loads(out.strip().splitlines()[-1])
    for name, params in SIGNATURES.items():
        if name in real:  # CuDNNLSTM exists only in tf.keras 2
            assert list(params) == real[name][:len(params)], name


def test_subclassed_model_gets_instantiation_arguments_and_build_shape():
    g = graph("""
        import keras
        class M(keras.Model):
            def __init__(self, units=4, rate=0.1):
                super().__init__()
                self.lstm = keras.layers.LSTM(units, return_sequences=True)
                self.drop = keras.layers.Dropout(rate)
                self.dense = keras.layers.Dense(1)
            def head(self, x):
                return self.dense(x)
            def call(self, x, training=None):
                return self.head(self.drop(self.lstm(x), training))
        model = M(16, rate=0.5)
        model.build((None, 30, 8))
        model.fit(data)
    """)
    assert [lay.args for lay in g.layers] == [
        {"units": 16, "return_sequences": True}, {"rate": 0.5}, {"units": 1}]
    assert chain(g) == [("LSTM", []), ("Dropout", [0]), ("Dense", [1])]
    assert [n.output_shape for n in g.nodes] == [(None, 30, 16), (None, 30, 16), (None, 30, 1)]
    assert g.nodes[1].call_args == {"training": "training"}
    assert [n.model_output for n in g.nodes] == [False, False, True]


def test_import_fallback_in_try():
    g = graph("""
        try:
            from tensorflow import keras
        except ImportError:
            import keras
        d = keras.layers.Dropout(0.2)
    """)
    assert [(lay.kind, lay.api) for lay in g.layers] == [("Dropout", "tf.keras")]


# ------------------------------------------------------------------------------------------
# The loader against the same program run by real Keras 3.

AGREEMENT_SOURCES = {
    "sequential": """
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Input((30, 8)),
            layers.Conv1D(16, 5, padding="same"),
            layers.SpatialDropout1D(0.2),
            layers.MaxPooling1D(2),
            layers.Bidirectional(layers.LSTM(12, return_sequences=True)),
            layers.TimeDistributed(layers.Dense(4)),
            layers.Dropout(0.3),
            layers.GRU(6),
            layers.RepeatVector(3),
            layers.SimpleRNN(5, return_sequences=True),
            layers.Flatten(),
            layers.Dense(1),
        ])
    """,
    "add_and_build": """
        import keras
        model = keras.Sequential()
        model.add(keras.layers.Embedding(500, 16))
        model.add(keras.layers.Dropout(0.2, noise_shape=(None, 1, 16)))
        model.add(keras.layers.LSTM(8, return_sequences=True))
        model.add(keras.layers.GlobalAveragePooling1D())
        model.add(keras.layers.Dense(2))
        model.build((None, 40))
    """,
    "functional": """
        import keras
        from keras import layers
        def build(steps=24, features=3, units=10):
            inp = keras.Input(shape=(steps, features))
            a = layers.Bidirectional(layers.GRU(units, return_sequences=True),
                                     merge_mode="sum")(inp)
            b = layers.Conv1D(4, 3, strides=2)(inp)
            b = layers.AveragePooling1D(3, padding="same")(b)
            c = layers.Reshape((-1, 2))(layers.Flatten()(b))
            x = layers.Concatenate(axis=1)([a, layers.Dense(units)(c)])
            x = layers.Dropout(0.5)(x)
            x = layers.RNN(layers.LSTMCell(units, dropout=0.1))(x)
            return keras.Model(inp, layers.Dense(1)(x))
        model = build()
    """,
}


@pytest.mark.keras
def test_loader_agrees_with_real_keras():
    """Run each program with Keras 3 and compare every layer's class and output shape with
    the nodes the loader read from the text."""
    import keras  # noqa: F401 - imported by the programs below

    for name, src in AGREEMENT_SOURCES.items():
        src = textwrap.dedent(src)
        namespace: dict = {}
        exec(compile(src, name, "exec"), namespace)  # noqa: S102 - our own test programs
        model = namespace["model"]
        real = [(type(lay).__name__, tuple(lay.output.shape)) for lay in model.layers
                if type(lay).__name__ != "InputLayer"]
        g = load(src, name)
        ours = [(n.kind, n.output_shape) for n in g.nodes if n.kind != "InputLayer"]
        assert sorted(ours, key=repr) == sorted(real, key=repr), name  # Keras orders by depth
        out = model.outputs[0]
        assert [(n.kind, n.output_shape) for n in g.nodes if n.model_output] == [
            (type(out._keras_history[0]).__name__, tuple(out.shape))], name


def test_loop_over_layer_objects_is_unrolled():
    g = graph("""
        import keras
        class M(keras.Model):
            def __init__(self):
                super().__init__()
                self.blocks = [keras.layers.LSTM(8, return_sequences=True),
                               keras.layers.Dropout(0.2), keras.layers.LSTM(4)]
            def call(self, x):
                for i, block in enumerate(self.blocks):
                    x = block(x)
                    x = keras.layers.GaussianNoise(0.1)(x)
                return x
        model = M()
        model(keras.Input((10, 3)))
    """)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("GaussianNoise", [1]),
                        ("Dropout", [2]), ("GaussianNoise", [3]), ("LSTM", [4]),
                        ("GaussianNoise", [5])]  # called on an Input: call() inlined
    noise = [n.layer for n in g.nodes if n.kind == "GaussianNoise"]
    assert noise[0] is noise[1] is noise[2]  # built in the loop body: one layer
    assert [n.output_shape for n in g.nodes[1:]] == [
        (None, 10, 8), (None, 10, 8), (None, 10, 8), (None, 10, 8), (None, 4), (None, 4)]
    assert [n.model_output for n in g.nodes] == [False] * 6 + [True]


def test_builtins_on_known_values():
    g = graph("""
        import keras
        sizes = [64, 32]
        n = len(sizes)
        x = keras.layers.Dense(max(sizes) + n)
        for i in range(0):
            y = keras.layers.Dropout(0.1)
        z = keras.layers.Dropout(y)   # may be unbound: unknown
        def range(*a):
            return [7]
        w = keras.layers.Dense(range(3)[0])  # the user's range, inlined
    """)
    assert [lay.args for lay in g.layers] == [
        {"units": 66}, {"rate": 0.1}, {"rate": UNKNOWN}, {"units": 7}]


def test_nested_def_in_call_and_cond_branches():
    import droplint
    src = textwrap.dedent("""
        import tensorflow as tf
        import keras

        class L(keras.layers.Layer):
            def call(self, x, training=None):
                def noisy(t):
                    return tf.nn.dropout(t, 0.1)            # runs inside call: unguarded
                def helper(t):
                    return tf.nn.dropout(t, 0.2)            # called only under a guard
                a = noisy(x)
                if training:
                    b = helper(x)
                c = tf.cond(training, lambda: tf.nn.dropout(x, 0.1), lambda: x)
                d = tf.cond(training, lambda: x, lambda: tf.nn.dropout(x, 0.3))
                e = tf.cond(not training, lambda: x, lambda: tf.nn.dropout(x, 0.4))
                f = tf.cond(pred=training, true_fn=lambda: tf.nn.dropout(x, 0.5),
                            false_fn=lambda: x)
                return a

        def outside(x):
            def inner(t):
                return tf.nn.dropout(t, 0.6)
            return inner(x)
    """)
    g = load(src, "m.py")
    got = [(text(src, c.span).split(",")[-1].strip(" )"), c.in_call, c.guarded)
           for c in g.calls]
    assert got == [("0.1", True, False), ("0.2", True, True), ("0.1", True, True),
                   ("0.3", True, False), ("0.4", True, True), ("0.5", True, True),
                   ("0.6", False, False)]
    report = droplint.analyze_source(src, "m.py", keras_version="3")
    assert [f.line for f in report.findings if f.code == "DL408"] == [8, 15]


def test_guard_only_after_an_inference_exit():
    g = graph("""
        import tensorflow as tf
        class A:
            def call(self, x, training=None):
                if training:
                    return x
                return tf.nn.dropout(x, 0.5)     # runs at inference: not guarded
        class B:
            def call(self, x, training=None):
                if training is None:
                    return x
                return tf.nn.dropout(x, 0.5)
    """)
    assert [(c.in_call, c.guarded) for c in g.calls] == [(True, False), (True, True)]


def test_more_value_sources():
    g = graph("""
        try:
            import tensorflow as tf
        except ImportError:
            tf = None
        cfg = {"rate": 0.4}
        a = tf.keras.layers.Dropout(cfg.get("rate", 0.1))
        b = tf.keras.layers.Dropout(cfg.get("missing", 0.2))
        c = tf.keras.layers.RNN(tf.keras.layers.GRUCell(3, dropout=cfg["rate"]))
    """)
    assert [(lay.kind, lay.args) for lay in g.layers] == [
        ("Dropout", {"rate": 0.4}), ("Dropout", {"rate": 0.2}), ("RNN", {})]
    assert g.layers[2].inner.args == {"units": 3, "dropout": 0.4}
    assert g.layers[2].is_recurrent


def test_class_instantiated_in_a_function():
    g = graph("""
        import keras
        class Net(keras.Model):
            def __init__(self, rate=0.1):
                super().__init__()
                self.drop = keras.layers.Dropout(rate)
            def call(self, x):
                return self.drop(x)
        def main():
            net = Net(rate=0.7)
            net.build((None, 5))
    """)
    assert g.layers[0].args == {"rate": 0.7}
    assert (g.nodes[0].input_shape, g.nodes[0].model_output) == ((None, 5), True)


def test_helper_function_called_twice_builds_twice():
    g = graph("""
        import keras
        from keras import layers
        def block(x, units):
            x = layers.LSTM(units, return_sequences=True)(x)
            return layers.Dropout(0.2)(x)
        def forever(x):
            return forever(x)
        inp = keras.Input((30, 8))
        x = block(inp, 64)
        x = block(x, 32)
        y = forever(x)
        out = layers.Dense(1)(x)
    """)
    assert chain(g) == [("InputLayer", []), ("LSTM", [0]), ("Dropout", [1]), ("LSTM", [2]),
                        ("Dropout", [3]), ("Dense", [4])]
    assert [n.layer.args.get("units") for n in g.nodes[1:5]] == [64, None, 32, None]
    assert g.nodes[4].output_shape == (None, 30, 32)
    assert len(g.layers) == 6


# ------------------------------------------------------------------------------------------
# Positions: the fast path (stdlib parser, paired) equals the exact one (libcst codegen).

def _all_spans(g: Graph) -> list:
    out = []
    for lay in g.layers:
        o = lay.origin
        out.append((o.span, o.name_span, o.inner_span, o.arg_spans, o.arg_value_spans,
                    o.arg_removal_spans, o.callee_span))
    out += [n.call_spans for n in g.nodes] + [c.span for c in g.calls]
    out += [(i.span, i.statement) for i in g.imports if i.name != "*"]
    return out


def _corpus() -> list[str]:
    import importlib.util

    root = Path(__file__).resolve().parent.parent
    texts = [p.read_text() for p in sorted((root / "examples").glob("*.py"))]
    texts += [textwrap.dedent(s) for s in AGREEMENT_SOURCES.values()]
    texts += [textwrap.dedent(SUBCLASSED), textwrap.dedent("""
        import keras
        x = (keras.layers.Dropout((0.5)))(keras.Input(((3, 4))), training=(True))
        if a: y = keras.layers.Dense(1)
        elif b: y = keras.layers.Dense(2)
        else:
            y = [keras.layers.Dropout(0.1), keras.layers.Dropout(0.2), keras.layers.Dropout(.1)]
        def f(d=keras.layers.Dropout(0.3)):
            return d
        é = "ü"; z = keras.layers.Dropout(0.4, noise_shape=(None, 1, 2))
        import tensorflow as tf, keras.layers as kl
        w = tf.compat.v1.keras.layers.CuDNNGRU(4); v = (kl.Dense)(2)
    """)]
    spec = importlib.util.find_spec("keras")
    layers = Path(list(spec.submodule_search_locations)[0]) / "src" / "layers"
    texts += [p.read_text() for p in sorted((layers / "rnn").glob("*.py"))]
    return texts


def test_fast_positions_equal_codegen_positions(monkeypatch):
    from droplint.loaders import positions

    texts = _corpus()
    real = positions.AstPositions
    misses = []

    def watched(*args):
        try:
            return real(*args)
        except positions.Mismatch as exc:
            misses.append(exc)
            raise

    monkeypatch.setattr(positions, "AstPositions", watched)
    fast = [_all_spans(load(t, "m.py")) for t in texts]
    assert misses == []  # the fast path paired every file of the corpus

    def refuse(*args):
        raise positions.Mismatch("forced")

    monkeypatch.setattr(positions, "AstPositions", refuse)
    exact = [_all_spans(load(t, "m.py")) for t in texts]
    assert fast == exact
    assert sum(len(spans) for spans in exact) > 100


def test_bidirectional_backward_layer_and_star_import_span(monkeypatch):
    src = "from keras.layers import *\nb = Bidirectional(LSTM(2), backward_layer=GRU(2))\n"
    g = load(src, "m.py")
    assert [lay.kind for lay in g.layers] == ["Bidirectional"]
    assert text(src, g.imports[0].span) == "*"
    from droplint.loaders import positions

    def refuse(*args):
        raise positions.Mismatch("forced")

    monkeypatch.setattr(positions, "AstPositions", refuse)
    assert text(src, load(src, "m.py").imports[0].span) == "*"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_are_pythons_for_every_newline_style(newline):
    src = newline.join(["from keras import layers", "", "x = layers.Dropout(0.3)", ""])
    (layer,) = load(src, "m.py").layers
    assert (layer.origin.span.line, layer.origin.span.column) == (3, 5)
    assert (layer.origin.span.end_line, layer.origin.span.end_column) == (3, 24)
