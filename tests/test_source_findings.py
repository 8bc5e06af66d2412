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
from droplint.fixes import apply_fixes


def check(src: str, keras: str = "3"):
    return droplint.analyze_source(textwrap.dedent(src), "m.py", keras_version=keras)


def found(src: str, code: str, keras: str = "3") -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in check(src, keras).findings if f.code == code]


def fixed(src: str, code: str) -> str:
    src = textwrap.dedent(src)
    fixes = [f.fix for f in check(src).findings if f.code == code and f.fix]
    return apply_fixes(src, fixes)[0]


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
    assert "import of CuDNNLSTM as LSTM" in f.message and "ImportError" in f.message
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
