"""What people read (issue 11): a one-sentence message, the why and the alternatives in `help`
(printed below the code frame in the text format, left out of the concise one, in the SARIF
markdown, a JSON key); repeated advice in a file given once ('same as line N');
--min-severity / min-severity hide findings below a threshold, and hidden findings never fail
the run; DL302 says nothing while recurrent_dropout rules cuDNN out; DL405 is a warning only
in files with TF1 idioms."""
from __future__ import annotations

import json

import jsonschema
import pytest

import droplint
from droplint.loaders.source.idioms import tf1_idioms
from droplint.render.sarif import to_sarif
from droplint.render.sources import Sources
from droplint.render.text import render_concise, render_full
from test_sarif import schemas

SEQ = ("import keras\n"
       "from keras import layers\n\n"
       "inputs = keras.Input(shape=(30, 8))\n"
       "x = layers.Dropout(0.3)(inputs)\n"
       "x = layers.LSTM(10)(x)\n"
       "x = layers.Dense(1)(x)\n"
       "x = layers.Dropout(0.2)(x)\n"
       "model = keras.Model(inputs, x)\n")

# the same mistake three times: the advice is given once, then 'same as line 5'
REPEATED = ("import keras\n"
            "from keras import layers\n\n"
            "inputs = keras.Input(shape=(30, 8))\n"
            "a = layers.LSTM(10)(layers.Dropout(0.3)(inputs))\n"
            "b = layers.LSTM(10)(layers.Dropout(0.3)(inputs))\n"
            "c = layers.GRU(10)(layers.Dropout(0.3)(inputs))\n"
            "model = keras.Model(inputs, [a, b, c])\n")


def _report(source: str, keras: str = "3"):
    return droplint.analyze_source(source, "m.py", keras_version=keras)


def test_help_is_printed_below_the_frame_and_wrapped():
    report = _report(SEQ)
    out = render_full(report, Sources({"m.py": SEQ}), width=80).plain.splitlines()
    dl101 = next(f for f in report.findings if f.code == "DL101")
    assert out[1] == "  " + dl101.message
    help_at = out.index("  = help: use SpatialDropout1D(0.3): drop whole features (unsafe fix)")
    assert out[help_at + 1].startswith("  = note: Mask (None, 30, 8): single (timestep, feature)")
    block = []
    for line in out[help_at + 1:]:
        if not line.startswith(("  = note: ", "          ")):
            break
        assert len(line) <= 80
        block.append(line.removeprefix("  = note: ").strip())
    assert " ".join(block) == dl101.help  # wrapped, not cut: every word of the help is there


def test_concise_omits_help_and_json_keeps_it():
    report = _report(SEQ)
    concise = render_concise(report).plain
    for f in report.findings:
        assert f.help and f.help not in concise
        assert f"{f.code} [{f.severity.value}] {f.message}" in concise
    data = report.to_dict()["findings"]
    assert {"code", "message", "help", "fix", "line", "severity"} <= set(data[0])
    assert [d["help"] for d in data] == [f.help for f in report.findings]


def test_sarif_markdown_carries_the_help_and_validates():
    report = _report(SEQ)
    doc = to_sarif(report, Sources({"m.py": SEQ}))
    for schema in schemas():
        jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    for result, f in zip(results, report.findings):
        assert result["message"]["text"] == f.message
        assert result["message"]["markdown"] == f"{f.message}\n\n{f.help}"


def test_repeated_advice_in_a_file_is_given_once():
    report = _report(REPEATED)
    dl101 = [f for f in report.findings if f.code == "DL101"]
    assert [f.line for f in dl101] == [5, 6, 7]
    out = render_full(report, Sources({"m.py": REPEATED}), width=100).plain
    # line 6: the same message and help as line 5: one line
    assert "m.py:6:21: DL101 [info] dropout-on-sequence-input: same as line 5" in out
    # line 7: GRU instead of LSTM: another help, given in full
    assert dl101[2].help != dl101[0].help and dl101[2].help.split("; ")[-1][:40] in \
        out.replace("\n          ", " ")
    assert out.count("= note: Mask (None, 30, 8)") == 2
    # the JSON keeps every finding in full
    assert all(f.help for f in dl101)


def test_same_help_with_another_message_points_at_the_first():
    report = _report(REPEATED)
    first, second = (f for f in report.findings if f.code == "DL101" and f.line in (5, 6))
    second.message = second.message.replace("0.3", "0.30")  # another message, same advice
    out = render_full(report, Sources({"m.py": REPEATED}), width=100).plain
    assert second.message in out and "  = note: same as line 5" in out


MIXED = SEQ  # DL101 info (line 5), DL401 warning (line 8)


@pytest.mark.parametrize(("args", "codes", "status"), [
    ((), ["DL101", "DL401"], 1),
    (("--min-severity", "warning"), ["DL401"], 1),
    (("--min-severity", "error"), [], 0),
    # a hidden finding never fails the run, whatever --fail-on says
    (("--min-severity", "warning", "--fail-on", "info"), ["DL401"], 1),
    (("--min-severity", "error", "--fail-on", "info"), [], 0),
])
def test_min_severity_hides_and_never_fails(cli, tmp_path, args, codes, status):
    (tmp_path / "m.py").write_text(MIXED)
    proc = cli("check", "--no-cache", "--format", "json", *args, "m.py", cwd=tmp_path)
    assert proc.returncode == status, proc.stderr
    assert [f["code"] for f in json.loads(proc.stdout)["findings"]] == codes


def test_min_severity_in_pyproject_and_overridden_on_the_command_line(cli, tmp_path):
    (tmp_path / "m.py").write_text(MIXED)
    (tmp_path / "pyproject.toml").write_text('[tool.droplint]\nmin-severity = "warning"\n')
    proc = cli("check", "--no-cache", "--format", "concise", "m.py", cwd=tmp_path)
    assert "DL401" in proc.stdout and "DL101" not in proc.stdout and proc.returncode == 1
    proc = cli("check", "--no-cache", "--format", "concise", "--min-severity", "info", "m.py",
               cwd=tmp_path)
    assert "DL101" in proc.stdout
    (tmp_path / "pyproject.toml").write_text('[tool.droplint]\nmin-severity = "loud"\n')
    proc = cli("check", "--no-cache", "m.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "min-severity must be error, warning or info, not 'loud'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_min_severity_on_stdin(cli, tmp_path):
    proc = cli("check", "--format", "concise", "--min-severity", "warning", "-",
               "--stdin-filename", "m.py", stdin=MIXED, cwd=tmp_path)
    assert "DL401" in proc.stdout and "DL101" not in proc.stdout


# --- DL302 and DL301 on the same layer (issue 11: advice that cannot help) ----------------------

RELU_RD = ("import keras\n"
           "from keras import layers\n\n"
           "inputs = keras.Input(shape=(30, 8))\n"
           "x = layers.{kind}(16, activation='relu', {extra})(inputs)\n"
           "model = keras.Model(inputs, layers.Dense(1)(x))\n")


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("keras", ["2", "3"])
def test_no_cudnn_advice_while_recurrent_dropout_rules_it_out(kind, keras):
    source = RELU_RD.format(kind=kind, extra="recurrent_dropout=0.2")
    found = _report(source, keras).findings
    assert "DL302" not in [f.code for f in found]
    (dl301,) = [f for f in found if f.code == "DL301"]
    assert "Removing recurrent_dropout alone would not restore cuDNN: activation='relu'" \
        in dl301.help
    # without recurrent_dropout, DL302 gives the advice (it can help now)
    plain = _report(RELU_RD.format(kind=kind, extra="dropout=0.2"), keras).findings
    assert [f.code for f in plain if f.code in ("DL301", "DL302")] == ["DL302"]


def test_use_cudnn_true_with_recurrent_dropout_is_still_an_error():
    source = RELU_RD.format(kind="LSTM", extra="recurrent_dropout=0.2, use_cudnn=True")
    (dl302,) = [f for f in _report(source).findings if f.code == "DL302"]
    assert dl302.severity.value == "error"
    assert "recurrent_dropout=0.2" in dl302.message


# --- DL405: info in Keras-native code, warning where the file shows TF1 idioms --------------------

NATIVE = ("import keras\n\n"
          "model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4),\n"
          "                          keras.layers.Dropout(0.8), keras.layers.Dense(1)])\n")


@pytest.mark.parametrize(("extra", "severity"), [
    ("", "info"),
    ("# TF1 used keep_prob = 0.8 here\nnote = 'tf.compat.v1 and tf.contrib'\n", "info"),
    ("import tensorflow as tf\nKEEP_PROB = 0.8\n", "warning"),  # a keep_prob name
    ("import tensorflow as tf\ny = tf.nn.dropout(tf.ones(3), keep_prob=0.8)\n", "warning"),
    ("import tensorflow as tf\nx = tf.compat.v1.placeholder(tf.float32)\n", "warning"),
    ("from tensorflow.contrib import rnn\n", "warning"),
    ("import tensorflow as tf\nx = tf.placeholder(tf.float32)\n", "warning"),
])
def test_dl405_warning_only_with_tf1_idioms(extra, severity):
    (finding,) = [f for f in _report(extra + NATIVE).findings if f.code == "DL405"]
    assert finding.severity.value == severity
    assert finding.message == "Dropout(0.8) drops 80% of the values and keeps 20%: a TF1 keep_prob?"
    assert ("This file uses TF1 idioms" in finding.help) == (severity == "warning")


def test_tf1_idioms_read_code_not_comments_or_strings():
    assert tf1_idioms("x = 1  # keep_prob\ns = 'tf.compat.v1'\n") == frozenset()
    assert tf1_idioms("input_keep_prob = 0.9\n") == {"keep_prob"}
    assert tf1_idioms("import tensorflow.compat.v1 as tf\n") == {"tf.compat.v1"}
    assert tf1_idioms("x = (\n") == frozenset()  # unfinished code: what was read counts


def test_dl405_built_model_is_info():
    """A built model has no source, so no TF1 idioms: info."""
    from droplint.graph import Graph

    assert Graph("model.keras").idioms == frozenset()
