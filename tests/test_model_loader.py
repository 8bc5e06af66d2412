"""droplint.analyze(model) on models built with real Keras 3 (in-process) and tf.keras 2
(tf_keras, in a subprocess with TF_USE_LEGACY_KERAS=1)."""
from __future__ import annotations

import inspect
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import droplint  # noqa: E402
from droplint.loaders.model import build_graph  # noqa: E402

pytestmark = pytest.mark.keras  # needs TensorFlow/Keras (in-process or a subprocess)

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def by_name(report, name: str) -> list[dict]:
    return [s for s in report.to_dict()["sites"] if s.get("layer_name") == name]


def codes_at(report, name: str) -> set[str]:
    """Codes of findings at layer `name` or at a layer wrapped in it (`bi/forward_gru`)."""
    return {f.code for f in report.findings
            if f.layer_name == name or f.layer_name.startswith(name + "/")}


def node_named(graph, name: str):
    (node,) = [n for n in graph.nodes if n.layer.origin.layer_name == name]
    return node


# --- functional ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def functional(keras):
    layers = keras.layers
    inputs = keras.Input((30, 8), name="series")
    x = layers.Dropout(0.3, name="drop_in")(inputs, training=True)
    x = layers.LSTM(16, dropout=0.2, return_sequences=True, name="lstm_a")(x)
    x = layers.Dropout(0.1, noise_shape=(None, 1, 16), seed=7, name="drop_mid")(x)
    x = layers.Bidirectional(layers.GRU(4, dropout=0.1, seed=3), name="bi")(x)
    outputs = layers.Dropout(0.2, name="drop_out")(layers.Dense(3, name="head")(x))
    return keras.Model(inputs, outputs, name="forecaster")


def test_functional_sites_have_real_shapes_and_layer_names(functional):
    report = droplint.analyze(functional)
    data = report.to_dict()
    assert data["keras"] == __import__("keras").__version__
    assert data["keras_source"] == "installed"
    (drop_in,) = by_name(report, "drop_in")
    assert drop_in["input_shape"] == [None, 30, 8]
    assert drop_in["mask_shape"] == [None, 30, 8]
    assert drop_in["path"] == "<model>" and drop_in["line"] is None
    (lstm,) = by_name(report, "lstm_a")
    assert (lstm["argument"], lstm["mask_shape"], lstm["over_time"]) == \
        ("dropout", [None, 1, 8], "same-every-step")
    (mid,) = by_name(report, "drop_mid")
    assert (mid["input_shape"], mid["mask_shape"], mid["drops"]) == \
        ([None, 30, 16], [None, 1, 16], "features")
    (bi,) = by_name(report, "bi")
    assert bi["layer"] == "Bidirectional" and bi["input_shape"] == [None, 30, 16]
    (out,) = by_name(report, "drop_out")
    assert out["input_shape"] == [None, 3] and out["drops"] == "units"
    for f in report.findings:
        assert f.path == "<model>" and f.line is None and f.layer_name


def test_functional_findings(functional):
    report = droplint.analyze(functional)
    assert "DL101" in codes_at(report, "drop_in")  # plain Dropout feeding an LSTM
    assert "DL305" in codes_at(report, "drop_in")  # ... that has dropout itself
    assert "DL306" in codes_at(report, "bi")  # seeded GRU inside Bidirectional
    assert "DL401" in codes_at(report, "drop_out")  # dropout is the model's output


def test_functional_graph_records_call_args_and_outputs(functional):
    built = build_graph(functional)
    graph = built.graph
    assert graph.built and graph.api == "keras" and graph.notes == []
    assert node_named(graph, "drop_in").call_args == {"training": True}
    assert node_named(graph, "lstm_a").call_args == {}  # Keras fills training=False itself
    assert [n.layer.origin.layer_name for n in graph.nodes if n.model_output] == ["drop_out"]
    lstm = node_named(graph, "lstm_a")
    assert [n.layer.origin.layer_name for n in lstm.inputs] == ["drop_in"]
    assert lstm.output_shape == (None, 30, 16)
    args = lstm.layer.args
    assert (args["units"], args["dropout"], args["return_sequences"]) == (16, 0.2, True)
    assert (args["activation"], args["implementation"], args["use_cudnn"]) == \
        ("tanh", 2, "auto")
    mid = node_named(graph, "drop_mid").layer.args
    assert (mid["rate"], mid["noise_shape"], mid["seed"]) == (0.1, (None, 1, 16), 7)
    bi = node_named(graph, "bi").layer
    assert bi.args["merge_mode"] == "concat" and "backward_layer" not in bi.args
    assert bi.inner.kind == "GRU" and bi.inner.args["seed"] == 3
    assert bi.inner.origin.layer_name.startswith("bi/")
    assert built.objects[id(bi)] is functional.get_layer("bi")


def test_training_true_in_a_functional_graph_is_dl406_warning(functional):
    report = droplint.analyze(functional)
    (finding,) = [f for f in report.findings if f.code == "DL406"]
    assert finding.layer_name == "drop_in" and finding.severity.value == "warning"


# --- sequential, wrappers, nested, shared, several inputs and outputs ------------------------

@pytest.fixture(scope="module")
def sequential(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((20, 4)),
        layers.LSTM(8, return_sequences=True, recurrent_dropout=0.2, name="lstm_rd"),
        layers.TimeDistributed(layers.Dropout(0.2), name="td"),
        layers.SpatialDropout1D(0.1, name="sd1"),
        layers.LSTM(8, name="lstm_b"),
        layers.Dropout(0.3, name="drop_last"),
    ], name="seq")


def test_sequential(sequential):
    graph = build_graph(sequential).graph
    assert {n.context for n in graph.nodes} == {"sequential"}
    assert [n.layer.origin.layer_name for n in graph.nodes if n.model_output] == ["drop_last"]
    td = node_named(graph, "td").layer
    assert td.kind == "TimeDistributed" and td.inner.kind == "Dropout"
    report = droplint.analyze(sequential)
    assert "DL401" in codes_at(report, "drop_last")
    assert "DL105" in codes_at(report, "td")
    assert "DL301" in codes_at(report, "lstm_rd")
    (rd,) = by_name(report, "lstm_rd")
    assert rd["argument"] == "recurrent_dropout" and rd["input_shape"] == [None, 8]
    (sd,) = by_name(report, "sd1")
    assert sd["drops"] == "features" and sd["mask_shape"] == [None, 1, 8]


def test_sequential_built_with_build_and_unbuilt(keras):
    layers = keras.layers
    model = keras.Sequential([layers.Dropout(0.2, name="d"), layers.LSTM(3, name="r")])
    unbuilt = droplint.analyze(model)
    (note,) = unbuilt.notes
    assert "'sequential" in note and "not built" in note
    (site,) = by_name(unbuilt, "d")
    assert site["input_shape"] is None and site["drops"] == "unknown"
    graph = build_graph(model).graph  # the order of a Sequential is known unbuilt
    assert [n.layer.origin.layer_name for n in graph.consumers(node_named(graph, "d"))] == ["r"]
    assert [n.layer.origin.layer_name for n in graph.nodes if n.model_output] == ["r"]
    model.build((None, 10, 4))
    built = droplint.analyze(model)
    assert built.notes == []
    (site,) = by_name(built, "d")
    assert site["input_shape"] == [None, 10, 4]
    assert "DL101" in codes_at(built, "d")


def test_nested_model_is_expanded_and_its_outputs_are_not_model_outputs(keras):
    layers = keras.layers
    inner_in = keras.Input((12, 6))
    inner = keras.Model(inner_in, layers.Dropout(0.4, name="inner_drop")(inner_in), name="block")
    inputs = keras.Input((12, 6))
    x = inner(inputs)
    x = layers.LSTM(5, name="rnn")(x)
    model = keras.Model(inputs, layers.Dense(1, name="out")(x), name="outer")
    graph = build_graph(model).graph
    drop = node_named(graph, "block/inner_drop")
    assert not drop.model_output
    assert [n.layer.origin.layer_name for n in graph.consumers(drop)] == ["rnn"]
    assert drop.input_shape == (None, 12, 6)
    report = droplint.analyze(model)
    assert "DL101" in codes_at(report, "block/inner_drop")  # seen through the inner model
    assert "DL401" not in report.codes()

    # The same inner model as the whole output: its dropout *is* the outer model's output.
    outer2 = keras.Model(inputs, inner(inputs), name="outer2")
    graph2 = build_graph(outer2).graph
    assert node_named(graph2, "block/inner_drop").model_output


def test_shared_layer_is_one_layer_two_sites(keras):
    layers = keras.layers
    a, b = keras.Input((10, 3), name="a"), keras.Input((10, 3), name="b")
    shared = layers.Dropout(0.25, name="shared")
    merged = layers.Concatenate(name="cat")([shared(a), shared(b)])
    out1 = layers.Dense(1, name="y1")(layers.LSTM(4, name="r")(merged))
    out2 = layers.Dropout(0.5, name="y2_drop")(layers.Dense(2, name="y2")(merged))
    model = keras.Model([a, b], [out1, out2])
    graph = build_graph(model).graph
    shared_nodes = [n for n in graph.nodes if n.layer.origin.layer_name == "shared"]
    assert len(shared_nodes) == 2 and shared_nodes[0].layer is shared_nodes[1].layer
    assert sum(1 for layer in graph.layers if layer.origin.layer_name == "shared") == 1
    assert {n.layer.origin.layer_name for n in graph.nodes if n.model_output} == \
        {"y1", "y2_drop"}
    report = droplint.analyze(model)
    # the two applications are identical in every reported field (same layer, same shape):
    # one site that says it stands for both (issue 7: each site once)
    shared_sites = by_name(report, "shared")
    assert len(shared_sites) == 1 and "2 times" in shared_sites[0]["description"]
    assert "DL401" in codes_at(report, "y2_drop")


def test_encoder_decoder_states_dict_outputs_and_masks(keras):
    layers = keras.layers
    enc_in = keras.Input((None,), name="enc")
    dec_in = keras.Input((None,), name="dec")
    e = layers.Dropout(0.2, name="enc_drop")(layers.Embedding(50, 8, mask_zero=True)(enc_in))
    _, h, c = layers.LSTM(16, return_state=True, dropout=0.1, name="encoder")(e)
    d = layers.LSTM(16, return_sequences=True, name="decoder")(
        layers.Embedding(50, 8)(dec_in), initial_state=[h, c])
    out = layers.Dropout(0.3, name="out_drop")(layers.Dense(50)(d))
    model = keras.Model({"enc": enc_in, "dec": dec_in}, {"logits": out, "state": h})
    graph = build_graph(model).graph
    encoder = node_named(graph, "encoder")
    # the Embedding's mask travels as `mask=`: not an input of the layer
    assert [n.layer.origin.layer_name for n in encoder.inputs] == ["enc_drop"]
    assert node_named(graph, "decoder").inputs[1] is encoder  # states, once
    assert encoder.model_output and node_named(graph, "out_drop").model_output
    assert encoder.input_shape == (None, None, 8)  # unknown timesteps stay None
    report = droplint.analyze(model)
    assert {"DL103", "DL305"} <= codes_at(report, "enc_drop")
    assert "DL401" in codes_at(report, "out_drop")


def test_rnn_cells_and_layer_args(keras):
    layers = keras.layers
    inputs = keras.Input((9, 5))
    x = layers.RNN(layers.LSTMCell(6, dropout=0.3), return_sequences=True, name="cell_rnn")(inputs)
    x = layers.LSTM(4, dropout=1.5, name="clipped")(x)  # Keras clips to 1.0
    model = keras.Model(inputs, x)
    graph = build_graph(model).graph
    rnn = node_named(graph, "cell_rnn").layer
    assert rnn.kind == "RNN" and rnn.args["cell"] == "LSTMCell" and rnn.args["dropout"] == 0.3
    assert node_named(graph, "clipped").layer.args["dropout"] == 1.0
    report = droplint.analyze(model)
    assert "DL304" in codes_at(report, "clipped")
    (site,) = by_name(report, "cell_rnn")
    assert site["argument"] == "dropout" and site["rate"] == 0.3


def test_deep_model_needs_no_recursion(keras):
    """droplint's walks are iterative: a model deeper than the recursion limit is analyzed."""
    layers = keras.layers
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))  # Keras itself recurses per layer when building
    try:
        inputs = keras.Input((6, 3))
        x = inputs
        for _ in range(150):
            x = layers.Dropout(0.1)(layers.LSTM(3, return_sequences=True)(x))
        model = keras.Model(inputs, layers.Dense(1)(x))
    finally:
        sys.setrecursionlimit(limit)
    low = len(inspect.stack()) + 150  # the frames above this test, and room for Keras' own
    sys.setrecursionlimit(low)
    try:
        report = droplint.analyze(model)
    finally:
        sys.setrecursionlimit(limit)
    assert len(model.layers) > low and len(report.sites) == 150
    assert report.codes().count("DL102") == 149  # each Dropout between two LSTMs but the last


# --- subclassed ------------------------------------------------------------------------------

def test_subclassed_model_layers_one_by_one_with_a_note(keras):
    import numpy as np

    layers = keras.layers

    class Regressor(keras.Model):
        def __init__(self):
            super().__init__(name="regressor")
            self.drop = layers.Dropout(0.3, name="sub_drop")
            self.rnn = layers.Bidirectional(layers.LSTM(4, dropout=0.2, seed=1), name="sub_bi")
            self.head = layers.Dense(1, name="sub_head")

        def call(self, x, training=None):
            return self.head(self.rnn(self.drop(x, training=True)))

    model = Regressor()
    model(np.zeros((2, 7, 3), "float32"))
    report = droplint.analyze(model)
    assert len(report.notes) == 1 and "subclassed" in report.notes[0]
    assert "sub_drop" in report.notes[0] and "regressor" in report.notes[0]
    (bi,) = by_name(report, "sub_bi")
    assert bi["input_shape"] == [None, 7, 3]  # the shape it was built with, batch as None
    assert by_name(report, "sub_drop")[0]["drops"] == "unknown"  # Dropout keeps no shape
    assert "DL306" in codes_at(report, "sub_bi")  # a rule about one layer still applies
    assert "DL406" not in report.codes()  # the call's training=True is not recorded: not guessed
    from droplint.render.text import render_full

    assert f"note: {report.notes[0]}" in render_full(report).plain
    graph = build_graph(model).graph
    assert {n.context for n in graph.nodes} == {"subclassed"} and not any(
        n.inputs for n in graph.nodes)


def test_subclassed_layer_inside_a_functional_model(keras):
    layers = keras.layers

    class Block(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.drop = layers.Dropout(0.2, name="block_drop")

        def call(self, x):
            return self.drop(x)

    inputs = keras.Input((6, 2))
    x = Block(name="block")(inputs)
    model = keras.Model(inputs, layers.LSTM(3, name="r")(x))
    graph = build_graph(model).graph
    assert node_named(graph, "block").kind == "Block"
    assert node_named(graph, "block/block_drop").context == "subclassed"
    assert any("'block' (Block) is subclassed" in n for n in graph.notes)


def test_analyze_rejects_what_is_not_a_model():
    with pytest.raises(TypeError, match="expects a path or a Keras model"):
        droplint.analyze(object())


# --- the probe -------------------------------------------------------------------------------

def test_probe_measures_every_site_and_agrees(keras):
    layers = keras.layers
    inputs = keras.Input((12, 6))
    x = layers.Dropout(0.3, name="p_drop")(inputs)
    x = layers.LSTM(8, dropout=0.3, return_sequences=True, name="p_lstm")(x)
    x = layers.Dropout(0.3, noise_shape=(None, 12, 1), name="p_steps")(x)
    x = layers.Bidirectional(layers.GRU(4, dropout=0.3, seed=5), name="p_bi")(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    report = droplint.analyze(model, probe=True)
    assert "DL902" not in report.codes()
    sites = report.to_dict()["sites"]
    assert len(sites) == 4 and all("probe" in s for s in sites)
    for site in sites:
        measured = site["probe"]
        assert measured["drops"] == site["drops"]
        assert [d if d is not None else measured["input_shape"][0] for d in
                site["mask_shape"]] == list(measured["mask_shape"])
    (bi,) = [s for s in sites if s["layer_name"] == "p_bi"]
    assert bi["probe"]["directions_identical"]  # what DL306 says about a seeded Bidirectional
    assert "DL306" in codes_at(report, "p_bi")
    assert "probe" not in droplint.analyze(model).to_dict()["sites"][0]


def test_probe_disagreement_is_dl902(keras):
    layers = keras.layers

    class StepDropout(layers.Dropout):
        """Drops whole timesteps whatever its noise_shape says."""

        def call(self, inputs, training=False):
            if training and self.rate > 0:
                shape = keras.ops.shape(inputs)
                return keras.random.dropout(inputs, self.rate,
                                            noise_shape=(shape[0], shape[1], 1),
                                            seed=self.seed_generator)
            return inputs

    inputs = keras.Input((10, 5))
    x = StepDropout(0.4, name="steps")(inputs)
    model = keras.Model(inputs, layers.LSTM(3)(x))
    report = droplint.analyze(model, probe=True)
    assert any("a subclass of Dropout" in n for n in report.notes)
    (finding,) = [f for f in report.findings if f.code == "DL902"]
    assert finding.layer_name == "steps" and finding.severity.value == "warning"
    assert "timesteps" in finding.message
    (site,) = by_name(report, "steps")
    assert site["drops"] == "elements" and site["probe"]["drops"] == "timesteps"
    quiet = droplint.analyze(model, probe=True,
                             settings=droplint.api.Settings(ignore=("DL902",)))
    assert "DL902" not in quiet.codes()


# --- the callback ----------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Gradients do not exist")
def test_callback_prints_and_raises_before_training(keras):
    import numpy as np

    from droplint.keras import DroplintCallback, DroplintError

    layers = keras.layers
    model = keras.Sequential([keras.Input((5, 2)), layers.LSTM(3),
                              layers.Dropout(1.0, name="all_gone"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 5, 2), "float32"), np.zeros((4, 1), "float32")
    out = io.StringIO()
    callback = DroplintCallback(raise_on="error", stream=out)
    with pytest.raises(DroplintError, match="DL404") as info:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert model.optimizer.iterations.numpy() == 0  # stopped before the first batch
    assert "DL404" in out.getvalue() and "all_gone" in out.getvalue()
    assert info.value.report is callback.report

    quiet = DroplintCallback(raise_on="error", ignore=["DL404"], verbose=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[quiet])
    assert "DL404" not in quiet.report.codes() and quiet.report.sites


# --- tf.keras 2 ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tf2(tmp_path_factory):
    out = tmp_path_factory.mktemp("tf2")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, str(HERE / "tfkeras_model_script.py"), str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sites(report: dict, name: str) -> list[dict]:
    return [s for s in report["sites"] if s.get("layer_name") == name]


def test_tf_keras_models_use_tf_keras_semantics(tf2):
    assert tf2["model_module"] == "tf_keras"
    functional = tf2["functional"]
    assert functional["keras"] == tf2["tf_keras"] and functional["keras_source"] == "installed"
    (lstm,) = _sites(functional, "lstm_a")
    # tf.keras 2, cuDNN-eligible LSTM: a fresh (B, T, F) mask at every step
    assert (lstm["mask_shape"], lstm["over_time"]) == ([None, 30, 8], "fresh-each-step")
    (dl406,) = [f for f in functional["findings"] if f["code"] == "DL406"]
    assert dl406["layer_name"] == "drop_in" and dl406["severity"] == "info"  # MC dropout in tf2
    sequential = tf2["sequential"]
    (td,) = _sites(sequential, "td")
    assert td["mask_shape"] == [1, 1, 8]  # (1, F) inside TimeDistributed: shared across time
    assert {f["code"] for f in sequential["findings"]} >= {"DL105", "DL301", "DL401"}


def test_tf_keras_subclassed_and_files(tf2):
    sub = tf2["subclassed"]
    assert any("subclassed" in n for n in sub["notes"])
    assert _sites(sub, "inner_lstm")[0]["input_shape"] == [None, 10, 3]
    h5, functional = tf2["h5"], tf2["functional"]
    assert [(f["code"], f["layer_name"]) for f in h5["findings"]] == \
        [(f["code"], f["layer_name"]) for f in functional["findings"]]
    assert [s["mask_shape"] for s in h5["sites"]] == [s["mask_shape"] for s in
                                                      functional["sites"]]
    saved = tf2["savedmodel"]
    assert "DL901" not in {f["code"] for f in saved["findings"]}
    assert {f["code"] for f in saved["findings"]} == \
        {f["code"] for f in tf2["sequential"]["findings"]}


def test_tf_keras_h5_files_in_a_keras3_process(tf2):
    from droplint.api import check_paths

    # Keras 3 cannot read this file (LSTM time_major): tf_keras loads it, and says so.
    report = check_paths([tf2["h5_path"]])
    assert report.keras == tf2["tf_keras"]
    (note,) = report.notes
    assert "Keras 3 cannot load it" in note and "loaded and analyzed with tf_keras" in note
    (dl406,) = [f for f in report.findings if f.code == "DL406"]
    assert dl406.severity.value == "info"  # tf.keras 2: training=True is MC dropout

    # Keras 3 reads this one: analyzed as Keras 3 runs it, with a note on the other choice.
    report = check_paths([tf2["dense_h5_path"]])
    assert report.keras == __import__("keras").__version__
    (note,) = report.notes
    assert f"saved by Keras {tf2['tf_keras']}" in note and "TF_USE_LEGACY_KERAS=1" in note
    assert {"DL401", "DL405"} <= set(report.codes())


def test_tf_keras_callback(tf2):
    assert tf2["callback"]["raised"] and "DL401" in tf2["callback"]["codes"]
    assert tf2["callback"]["base"].startswith("tf_keras")
