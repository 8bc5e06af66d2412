"""A rule's examples are its tests (Fixit style): every BAD example is a `rule.Invalid` that
pins its result (the line of the first finding, how many findings, a message fragment, the
severity, and the text `--select CODE --fix` makes of it, through the same code path as the
command line: fixing.fix_text over pipeline.check_text); no GOOD example fires; the rule's
automatic fix gives code that parses and no longer fires the rule. Plus the behaviour that
depends on the Keras version, checked on the same sources under several versions."""
from __future__ import annotations

import ast

import pytest

import droplint
from droplint.config import Settings
from droplint.fixes import apply_fixes
from droplint.fixing import fix_text
from droplint.pipeline import check_text
from droplint.rule import Invalid
from droplint.rules import ALL_RULES, BY_CODE

# Rules whose findings come from source: loader-only rules (DL900/DL901) have no examples.
SOURCE_RULES = [r for r in ALL_RULES if not r.loader_only and r.BAD]
FIXABLE = [r for r in SOURCE_RULES if r.fix_safety]


def _cases(kind: str):
    for rule in SOURCE_RULES:
        for i, source in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, source, id=f"{rule.code}-{kind.lower()}{i}")


def _findings(source: str, code: str, keras: str):
    report = droplint.analyze_source(source, "example.py", keras_version=keras)
    return [f for f in report.findings if f.code == code]


def _text(finding) -> str:
    """What a finding says: its one-sentence message and its help."""
    return f"{finding.message}\n{finding.help or ''}"


def _keras(rule, source) -> str:
    return getattr(source, "keras", None) or rule.EXAMPLE_KERAS


def _fix_as_cli(source: str, code: str, keras: str, unsafe: bool) -> str:
    """`droplint --select CODE --fix [--unsafe-fixes]` on the source: the same passes, parse
    checks and import pruning as the command line. DL910 needs the other rules to run (a
    suppression of a rule that did not run is never called unused)."""
    settings = Settings(select=("ALL",) if code == "DL910" else (code,), keras_version=keras)
    return fix_text(source, lambda t: check_text(t, "example.py", settings), unsafe=unsafe).text


@pytest.mark.parametrize(("rule", "source"), list(_cases("BAD")))
def test_bad_example_fires(rule, source):
    found = _findings(source, rule.code, _keras(rule, source))
    assert found, f"{rule.code} did not fire on:\n{source}"
    for f in found:
        assert f.name == rule.name
        assert f.line and f.column and f.end_line and f.end_column, f"{rule.code}: no location"
        assert (f.line, f.column) < (f.end_line, f.end_column)
        assert f.message.strip() and "\n" not in f.message


@pytest.mark.parametrize(("rule", "source"), list(_cases("BAD")))
def test_bad_example_result_is_pinned(rule, source):
    """Line, count, message fragment, severity and fixed text, as Invalid(...) says."""
    assert isinstance(source, Invalid), f"{rule.code}: a BAD example must be a rule.Invalid"
    keras = _keras(rule, source)
    found = _findings(source, rule.code, keras)
    assert len(found) == source.count, [f.message for f in found]
    first = found[0]
    assert first.line == source.line, (first.line, first.message)
    assert source.message in first.message, first.message
    assert first.severity.value == (source.severity or rule.severity.value)
    fixed = _fix_as_cli(source, rule.code, keras, unsafe=rule.fix_safety == "unsafe")
    assert fixed == (source.source if source.fixed is None else source.fixed)


@pytest.mark.parametrize("rule", SOURCE_RULES, ids=lambda r: r.code)
def test_doc_example_is_clean_code(rule):
    """`droplint rule CODE` prints the first BAD example as plain code, nothing pinned."""
    doc = rule.doc()
    example = doc.split("## Example\n```python\n", 1)[1].split("```", 1)[0]
    assert example == rule.BAD[0].source.strip("\n") + "\n"
    assert "Invalid(" not in doc and "line=" not in example


MAX_MESSAGE = 120  # aim: under 100, as ruff's and pylint's; the why goes into `help`


@pytest.mark.parametrize(("rule", "source"), list(_cases("BAD")))
@pytest.mark.parametrize("keras", ["example", "2", "3"])
def test_message_is_one_short_sentence(rule, source, keras):
    keras = _keras(rule, source) if keras == "example" else keras
    for f in _findings(source, rule.code, keras):
        assert len(f.message) <= MAX_MESSAGE and "\n" not in f.message, f.message
        assert not f.message.endswith("."), f.message  # one sentence, ruff style: no period
        assert f.help is None or f.help.strip(), rule.code


@pytest.mark.parametrize(("rule", "source"), list(_cases("GOOD")))
def test_good_example_is_clean(rule, source):
    found = _findings(source, rule.code, rule.EXAMPLE_KERAS)
    assert not found, f"{rule.code} fired on a GOOD example: {[f.message for f in found]}"


def _apply_all(source: str, code: str, keras: str) -> tuple[str, int]:
    """Apply the rule's fixes until none is left (overlapping fixes wait for the next pass)."""
    applied = 0
    for _ in range(5):
        fixes = [f.fix for f in _findings(source, code, keras) if f.fix]
        source, count = apply_fixes(source, fixes)
        applied += count
        if not count:
            break
    return source, applied


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_fix_of_first_bad_example(rule):
    before = rule.BAD[0]
    found = _findings(before, rule.code, rule.EXAMPLE_KERAS)
    assert all(f.fix and f.fix.applicability == rule.fix_safety for f in found)
    after, applied = _apply_all(before, rule.code, rule.EXAMPLE_KERAS)
    assert applied >= 1 and after != before
    ast.parse(after)
    assert not _findings(after, rule.code, rule.EXAMPLE_KERAS), after


@pytest.mark.parametrize(("rule", "source"),
                         [c for c in _cases("BAD") if c.values[0].fix_safety])
def test_every_offered_fix_removes_its_finding(rule, source):
    found = _findings(source, rule.code, rule.EXAMPLE_KERAS)
    with_fix = [f for f in found if f.fix]
    after, _ = _apply_all(source, rule.code, rule.EXAMPLE_KERAS)
    ast.parse(after)
    remaining = _findings(after, rule.code, rule.EXAMPLE_KERAS)
    assert len(remaining) == len(found) - len(with_fix)


# --- fixes: the exact text, formatting kept ----------------------------------------------------

FIX_TEXT = [
    (  # bare name: the new class is added to the existing import
        "DL101", "3",
        "from keras import Input, Sequential\n"
        "from keras.layers import (Dropout,\n"
        "                          LSTM)\n\n"
        "model = Sequential([Input(shape=(30, 8)), Dropout( 0.3 ), Dropout(0.2), LSTM(4)])\n",
        "from keras import Input, Sequential\n"
        "from keras.layers import (SpatialDropout1D, Dropout,\n"
        "                          LSTM)\n\n"
        "model = Sequential([Input(shape=(30, 8)), SpatialDropout1D( 0.3 ), "
        "SpatialDropout1D(0.2), LSTM(4)])\n",
    ),
    (  # the removed class is renamed in the import and at the call
        "DL303", "3",
        "from keras.layers import Input, CuDNNGRU as FastGRU, Dense\n"
        "from keras.models import Model\n\n"
        "ipt = Input(shape=(30, 8))\n"
        "model = Model(ipt, Dense(1)(FastGRU(10)(ipt)))\n",
        "from keras.layers import Input, GRU as FastGRU, Dense\n"
        "from keras.models import Model\n\n"
        "ipt = Input(shape=(30, 8))\n"
        "model = Model(ipt, Dense(1)(FastGRU(10)(ipt)))\n",
    ),
    (  # through tf.compat.v1 on `import tensorflow as tf`: the whole callee is rewritten
        "DL303", "2",
        "import tensorflow as tf\n\n"
        "model = tf.keras.Sequential([\n"
        "    tf.keras.Input(shape=(30, 8)),\n"
        "    tf.compat.v1.keras.layers.CuDNNGRU(16, return_sequences=True),\n"
        "    tf.compat.v1.keras.layers.CuDNNLSTM(4),\n"
        "])\n",
        "import tensorflow as tf\n\n"
        "model = tf.keras.Sequential([\n"
        "    tf.keras.Input(shape=(30, 8)),\n"
        "    tf.keras.layers.GRU(16, return_sequences=True),\n"
        "    tf.keras.layers.LSTM(4),\n"
        "])\n",
    ),
    (  # unwrap keeps the inner call as written
        "DL105", "3",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.TimeDistributed(\n"
        "    keras.layers.Dropout(rate=0.3),\n"
        ")(inputs)\n",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.Dropout(rate=0.3)(inputs)\n",
    ),
    (
        "DL307", "3.9",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.LSTM(8, implementation=1, dropout=0.2)(inputs)\n",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.LSTM(8, dropout=0.2)(inputs)\n",
    ),
    (  # a parenthesized value is replaced with its parentheses
        "DL201", "3",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.Dropout(0.2, noise_shape=(1, 30, 1), seed=7)(inputs)\n",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.Dropout(0.2, noise_shape=(None, 30, 1), seed=7)(inputs)\n",
    ),
    (
        "DL203", "3",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.Dropout(0.2, noise_shape=[64, 30, 1])(inputs)\n"
        "x = keras.layers.GRU(8)(x)\n",
        "import keras\n\n"
        "inputs = keras.Input(shape=(30, 8))\n"
        "x = keras.layers.Dropout(0.2, noise_shape=(None, 30, 1))(inputs)\n"
        "x = keras.layers.GRU(8)(x)\n",
    ),
]


@pytest.mark.parametrize(("code", "keras", "before", "after"), FIX_TEXT,
                         ids=[c[0] for c in FIX_TEXT])
def test_fix_text(code, keras, before, after):
    fixed, applied = _apply_all(before, code, keras)
    assert applied >= 1
    assert fixed == after


def test_no_spatial_fix_when_keras3_spatial_dropout_rejects_an_argument():
    source = ("import keras\n\n"
              "model = keras.Sequential([keras.layers.Dropout(0.3, input_shape=(30, 8)),\n"
              "                          keras.layers.LSTM(4)])\n")
    found = _findings(source, "DL101", "3")
    assert found and all(f.fix is None for f in found)
    found = _findings(source, "DL101", "2")  # tf.keras 2's SpatialDropout1D takes input_shape
    assert found and all(f.fix is not None for f in found)


# --- behaviour that depends on the Keras version -----------------------------------------------

SEQ = ("import keras\n\n"
       "inputs = keras.Input(shape=(30, 8))\n"
       "x = keras.layers.Dropout(0.3)(inputs)\n"
       "x = keras.layers.LSTM(10)(x)\n")


def test_dl101_message_follows_the_keras_version():
    k3 = _text(_findings(SEQ, "DL101", "3")[0])
    k2 = _text(_findings(SEQ, "DL101", "2")[0])
    assert "Dropout(0.3) on (None, 30, 8)" in k3
    assert "noise_shape=(None, 1, 8)" in k3 and "noise_shape=(None, 30, 1)" in k3
    assert "LSTM(dropout=0.3) uses one mask for every timestep" in k3
    assert "LSTM(dropout=0.3) uses one mask" not in k2
    assert "fresh mask at every timestep" in k2


def test_dl101_unknown_timesteps_and_single_feature():
    unknown_t = SEQ.replace("shape=(30, 8)", "shape=(None, 8)")
    assert "noise_shape=(None, None, 1)" in _text(_findings(unknown_t, "DL101", "3")[0])
    assert not _findings(SEQ.replace("shape=(30, 8)", "shape=(30, 1)"), "DL101", "3")


def test_dl102_and_dl103_take_precedence_over_dl101():
    stacked = SEQ.replace("x = keras.layers.Dropout",
                          "x = keras.layers.GRU(8, return_sequences=True)(inputs)\n"
                          "x = keras.layers.Dropout").replace("(0.3)(inputs)", "(0.3)(x)")
    codes = [f.code for f in droplint.analyze_source(stacked, keras_version="3").findings]
    assert "DL102" in codes and "DL101" not in codes


TRAINING_TRUE = ("import keras\n\n"
                 "inputs = keras.Input(shape=(30, 8))\n"
                 "x = keras.layers.LSTM(10)(inputs)\n"
                 "x = keras.layers.Dropout(0.3)(x, training=True)\n")


@pytest.mark.parametrize(("keras", "severity"), [("3", "warning"), ("2", "info")])
def test_dl406_severity_by_keras_version(keras, severity):
    (finding,) = _findings(TRAINING_TRUE, "DL406", keras)
    assert finding.severity.value == severity
    line = TRAINING_TRUE.splitlines()[finding.line - 1]
    assert line[finding.column - 1:finding.end_column - 1] == "training=True"


@pytest.mark.parametrize(("code", "keras", "fires"), [
    ("DL307", "3.7", False), ("DL307", "3.8", True), ("DL307", "3.15", True),
    ("DL308", "3.3", False), ("DL308", "3.4", True), ("DL308", "3.8", True),
    ("DL308", "3.9", False), ("DL308", "2", False),
    ("DL407", "3.9", False), ("DL407", "3.10", True), ("DL407", "2", False),
    ("DL306", "2", False), ("DL306", "3", True),
])
def test_version_gated_rules(code, keras, fires):
    source = BY_CODE[code].BAD[0]
    assert bool(_findings(source, code, keras)) == fires


def test_dl403_three_severities():
    sources = BY_CODE["DL403"].BAD
    severities = [_findings(s, "DL403", "3")[0].severity.value for s in sources]
    assert severities == ["error", "warning", "info"]


def test_dl302_error_only_with_use_cudnn_true():
    rule = BY_CODE["DL302"]
    assert _findings(rule.BAD[0], "DL302", "3")[0].severity.value == "info"
    assert _findings(rule.BAD[1], "DL302", "3")[0].severity.value == "error"


def test_dl305_effective_keep_probability():
    (finding,) = _findings(BY_CODE["DL305"].BAD[0], "DL305", "3")
    assert "(1-0.3)(1-0.2) = 0.56" in finding.message


def test_dl204_fix_only_for_tf_keras_2():
    source = BY_CODE["DL204"].BAD[0]
    (k2,) = _findings(source, "DL204", "2")
    (k3,) = _findings(source, "DL204", "3")
    assert k2.fix is not None and k3.fix is None
    assert "TypeError" in k3.message and "ignores" in k2.message


def test_argument_rules_point_at_the_keyword():
    source = ("import keras\n\n"
              "inputs = keras.Input(shape=(30, 8))\n"
              "x = keras.layers.LSTM(10, recurrent_dropout=0.2)(inputs)\n")
    (finding,) = _findings(source, "DL301", "3")
    line = source.splitlines()[finding.line - 1]
    assert line[finding.column - 1:finding.end_column - 1] == "recurrent_dropout=0.2"


# --- the error rules' claims, checked by running the examples in real Keras 3 ------------------

def _train(source: str, samples: int = 8):
    """Run an example (which builds `model`) and call it in training mode on a random batch
    (the forward pass of a training step, where the dropout masks are drawn)."""
    import numpy as np

    namespace: dict = {}
    exec(compile(source, "<example>", "exec"), namespace)
    model = namespace["model"]
    shape = tuple(model.inputs[0].shape)[1:]
    model(np.random.rand(samples, *shape).astype("float32"), training=True)


@pytest.mark.parametrize(("code", "index", "when"), [
    ("DL104", 0, "build"),  # SpatialDropout1D on (None, 10): ValueError when called
    ("DL202", 0, "fit"),  # noise_shape (None, 1, 16) on (None, 30, 8)
    ("DL203", 0, "fit"),  # noise_shape (32, 1, 8): a batch of 8 (the last one) fails
    ("DL204", 0, "build"),  # Keras 3: TypeError for noise_shape=
    ("DL303", 0, "build"),  # CuDNNLSTM: ImportError in Keras 3
    ("DL307", 0, "fit"),  # implementation=1 with dropout: rank error in training
])
@pytest.mark.keras
def test_error_examples_really_fail_in_keras3(code, index, when):
    import keras

    assert keras.__version__.startswith("3.")
    rule = BY_CODE[code]
    source = rule.BAD[index]
    if when == "build":
        with pytest.raises((ValueError, TypeError, ImportError)):
            exec(compile(source, "<example>", "exec"), {})
    else:
        with pytest.raises(Exception) as info:
            _train(source)
        assert not isinstance(info.value, (NameError, KeyError, AttributeError))
        _train(rule.GOOD[0])  # and the recommended code trains


def test_apply_fixes_merges_identical_edits_and_defers_overlaps():
    from droplint.report import Edit, Fix

    text = "a = f(x)\n"
    same_import = Edit.insert(1, 1, "import m\n")
    first = Fix("safe", "one", (same_import, Edit(1, 5, 1, 6, "g")))
    second = Fix("safe", "two", (same_import, Edit(1, 7, 1, 8, "y")))
    clash = Fix("safe", "three", (Edit(1, 5, 1, 9, "h()"),))
    fixed, count = apply_fixes(text, [first, second, clash])
    assert (fixed, count) == ("import m\na = g(y)\n", 2)


# --- the messages say what each Keras version really does (tests/test_semantics_keras.py) ------

@pytest.mark.parametrize(("code", "index", "keras", "present", "absent"), [
    # tf.keras 2 under fit: RNN masks are fresh at every step on every path; Keras 3: one per call
    ("DL301", 0, "2", ["a new pattern at every timestep", "(4 masks, one per gate)",
                       "(None, 64) state"], ["the same mask"]),
    ("DL301", 0, "3", ["the same mask at every timestep", "(4 masks, one per gate)"], []),
    ("DL101", 0, "2", ["LSTM(dropout=0.3) is no alternative", "(None, 30, 8)"], []),
    ("DL101", 0, "3", ["whole input features, mask (None, 1, 8)"], []),
    # a noise_shape longer than the rank fails under fit (both versions, measured)
    ("DL202", 1, "3", ["Shapes must be equal rank, but are 4 and 3", "noise_shape=(None, 1, 8)"],
     ["does not fail"]),
    ("DL307", 0, "3.8", ["Shape must be at most rank 3 but is rank 4"], []),
    # rate 1: SimpleRNN and Dropout fail in tf.keras 2 training, zero everything in Keras 3
    ("DL304", 2, "2", ["ValueError"], ["zeroed"]),
    ("DL304", 2, "3", ["every input is zeroed"], ["ValueError"]),
    ("DL304", 0, "3", ["no dropout at all"], ["clipped"]),
    ("DL404", 0, "2", ["ValueError when the layer runs in training"], ["all zeros"]),
    ("DL404", 0, "3", ["all zeros in training"], ["ValueError"]),
    # tf.keras 2's LSTM/GRU take no use_cudnn
    ("DL302", 0, "2", ["# noqa: DL302"], ["use_cudnn=False"]),
    ("DL302", 1, "2", ["TypeError"], []),
])
def test_message_follows_the_keras_version(code, index, keras, present, absent):
    (finding,) = _findings(BY_CODE[code].BAD[index], code, keras)
    for text in present:
        assert text in _text(finding), (text, _text(finding))
    for text in absent:
        assert text not in _text(finding), (text, _text(finding))


def test_dl302_use_cudnn_true_is_an_error_in_tf_keras_2_too():
    (finding,) = _findings(BY_CODE["DL302"].BAD[1], "DL302", "2")
    assert finding.severity.value == "error"


SINGLE_FEATURE = ("import keras\n\n"
                  "inputs = keras.Input(shape=(30, 1))\n"
                  "x = keras.layers.SpatialDropout2D(0.2)(inputs)\n"
                  "y = keras.layers.TimeDistributed(keras.layers.Dropout(0.2))(inputs)\n")


@pytest.mark.parametrize("code", ["DL104", "DL105"])
def test_no_spatial_dropout_advice_for_a_single_feature(code):
    """On (B, T, 1) SpatialDropout1D drops whole samples and Dropout whole timesteps."""
    (finding,) = _findings(SINGLE_FEATURE, code, "3")
    assert "SpatialDropout1D" not in _text(finding)
    if code == "DL104":
        assert "whole timesteps" in _text(finding) and "whole samples" in _text(finding)
