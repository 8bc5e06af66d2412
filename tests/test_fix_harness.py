"""The fix harness (issue 8 §6): every fix of every rule, safe and with --unsafe-fixes, applied to
the rule examples (BAD and GOOD) and to the real-world reductions in tests/realworld/. After
fixing, the text parses, pyflakes finds no new undefined/duplicate/unused name, every fixed
finding is gone, droplint finds no new error, fixing again changes nothing, and each finding's
`fix.edits` applied alone (what JSON/SARIF publish) give a file with the same guarantees. Where
the model builds with real Keras before the fix, it still builds and trains one step after it
(in a subprocess: droplint's own process never executes the code; these sources are ours).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from droplint import fixcheck, fixes
from droplint.config import Settings
from droplint.fixing import fix_text
from droplint.pipeline import check_text
from droplint.rules import ALL_RULES, BY_CODE

ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT / "tests" / "realworld"


def _cases() -> list[tuple[str, str, str]]:
    """(id, source, keras version) for every rule example and every .py reduction."""
    out = []
    for rule in ALL_RULES:
        for kind, examples in (("bad", rule.BAD), ("good", rule.GOOD)):
            for i, ex in enumerate(examples):
                keras = getattr(ex, "keras", None) or rule.EXAMPLE_KERAS
                out.append((f"{rule.code}-{kind}{i}", str.__str__(ex), keras))
    for path in sorted(REALWORLD.glob("*.py")):
        if not path.name.startswith("test_"):
            out.append((f"realworld-{path.stem}", path.read_text(encoding="utf-8"), "3"))
    return out


CASES = _cases()


def lint(keras: str):
    settings = Settings(keras_version=keras)
    return lambda text: check_text(text, "case.py", settings)


def names(text: str) -> Counter:
    return fixcheck.name_problems(text)


def errors(result) -> Counter:
    return Counter(f.code for f in result.findings if f.severity.value == "error")


def fixed_keys(result) -> Counter:
    return Counter((f.code, f.message) for f in result.findings)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize(("case", "source", "keras"), CASES, ids=[c[0] for c in CASES])
def test_every_fix_keeps_the_file_valid(case, source, keras, unsafe):
    before = lint(keras)(source)
    outcome = fix_text(source, lint(keras), unsafe=unsafe)
    after = outcome.text
    ast.parse(after)
    assert names(after) - names(source) == Counter()
    assert errors(outcome.result) - errors(before) == Counter()
    remaining = fixed_keys(outcome.result)
    for f in outcome.fixed:  # the targeted finding is gone
        key = (f.code, f.message)  # (a finding may appear only after an earlier fix)
        assert remaining[key] < max(fixed_keys(before)[key], 1), f
    again = fix_text(after, lint(keras), unsafe=unsafe)
    assert again.text == after  # idempotent
    assert outcome.rolled_back == []  # every offered fix passes the checks before writing


@pytest.mark.parametrize(("case", "source", "keras"), CASES, ids=[c[0] for c in CASES])
def test_each_published_fix_alone_is_complete(case, source, keras):
    """fix.edits (the JSON/SARIF edits) applied alone: parses, no new name problem, no new
    droplint error; a refused fix says why."""
    before = lint(keras)(source)
    for f in before.findings:
        if f.fix is None:
            if f.fix_refused is not None:
                assert f.help and f"No automatic fix: {f.fix_refused}" in f.help
            continue
        assert all(fixes.rename_marker(e) is None for e in f.fix.edits)
        after = fixes.apply_edits(source, f.fix.edits)
        ast.parse(after)
        assert names(after) - names(source) == Counter(), (f.code, after)
        assert errors(lint(keras)(after)) - errors(before) == Counter(), (f.code, after)


# --- the real-world patterns of issue 8 --------------------------------------------------------

def fixed_text(name: str, unsafe: bool = True) -> tuple[str, object]:
    source = (REALWORLD / name).read_text(encoding="utf-8")
    out = fix_text(source, lint("3"), unsafe=unsafe)
    return out.text, out


def test_rank_changing_fix_refused_on_a_layer_applied_twice():  # P7
    source = (REALWORLD / "dropout_applied_twice_fix.py").read_text(encoding="utf-8")
    found = [f for f in lint("3")(source).findings if f.code == "DL102"]
    assert [(f.line, f.column) for f in found] == [(13, 21)]
    assert found[0].fix is None and "applied more than once" in found[0].fix_refused
    assert "No automatic fix:" in found[0].help
    assert fixed_text("dropout_applied_twice_fix.py")[0] == source


def test_rank_changing_fix_refused_on_a_layer_applied_to_3d_and_2d():
    source = ("from keras.layers import Input, LSTM, Dropout, Dense\n"
              "from keras.models import Model\n"
              "i = Input((30, 8))\n"
              "d = Dropout(0.2)\n"
              "x = LSTM(4)(d(i))\n"
              "m = Model(i, Dense(1)(d(x)))\n")
    found = [f for f in lint("3")(source).findings if f.code == "DL101"]
    assert found and all(f.fix is None and f.fix_refused for f in found)
    assert fix_text(source, lint("3"), unsafe=True).text == source


def test_dl105_keeps_the_wrapper_name():  # P9
    text, out = fixed_text("timedistributed_dropout_name.py", unsafe=False)
    assert 'x = Dropout(0.5, name="shared_dropout")(x)\n' in text
    assert not [f for f in out.findings if f.code == "DL105"]


def test_dl105_refused_when_both_set_a_name():
    source = ("from keras.layers import LSTM, Dropout, Input, TimeDistributed\n"
              "inp = Input(shape=(20, 8))\n"
              "x = LSTM(16, return_sequences=True)(inp)\n"
              "x = TimeDistributed(Dropout(0.5, name='a'), name='b')(x)\n")
    found = [f for f in lint("3")(source).findings if f.code == "DL105"]
    assert found and found[0].fix is None and "name" in found[0].fix_refused


def test_dl105_refused_when_it_would_delete_a_comment():
    source = ("import keras\n"
              "inputs = keras.Input(shape=(30, 8))\n"
              "x = keras.layers.TimeDistributed(\n"
              "    keras.layers.Dropout(rate=0.3),  # per step\n"
              ")(inputs)\n")
    found = [f for f in lint("3")(source).findings if f.code == "DL105"]
    assert found and found[0].fix is None and "comment" in found[0].fix_refused


def test_private_import_path_is_not_written():  # P10
    text, _ = fixed_text("private_import_path.py")
    assert "from tensorflow.keras.layers import SpatialDropout1D\n" in text
    assert "from tensorflow.python.keras.layers import LSTM, Dense, Embedding\n" in text
    private = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom)
               and n.module.startswith("tensorflow.python") and
               any(a.name == "SpatialDropout1D" for a in n.names)]
    assert private == []


def test_cudnn_import_next_to_its_replacement_is_removed():  # P11
    text, _ = fixed_text("cudnn_unused_import.py", unsafe=False)
    assert "from tensorflow.keras.layers import LSTM, Dense, Dropout\n" in text


def test_rename_reaches_every_use_or_none():
    source = ("from keras.layers import CuDNNLSTM, Bidirectional, Input\n"
              "def block(layer=CuDNNLSTM):\n"
              "    return Bidirectional(layer(8))\n"
              "x = Bidirectional(CuDNNLSTM(8))(Input((5, 3)))\n"
              "y = block()(Input((5, 3)))\n")
    text, out = fix_text(source, lint("3")).text, None
    assert "CuDNNLSTM" not in text and "def block(layer=LSTM):" in text
    assert "from keras.layers import LSTM, Bidirectional, Input\n" in text
    rebound = source + "CuDNNLSTM = None\n"
    found = [f for f in lint("3")(rebound).findings if f.code == "DL303"]
    assert found and all(f.fix is None and "assigned" in f.fix_refused for f in found)
    assert fix_text(rebound, lint("3")).text == rebound


def test_published_edits_include_the_import_clean_up():
    source = ("from keras.layers import Input, Dropout, LSTM\n"
              "i = Input((30, 8))\n"
              "x = LSTM(4)(Dropout(0.3)(i))\n")
    found = [f for f in lint("3")(source).findings if f.code == "DL101"]
    assert found and found[0].fix is not None
    alone = fixes.apply_edits(source, found[0].fix.edits)
    assert alone.splitlines()[0] == "from keras.layers import Input, SpatialDropout1D, LSTM"
    assert alone == fix_text(source, lint("3"), unsafe=True).text


def test_a_fix_adding_an_error_is_rolled_back():
    """fixing.fix_text re-checks the result: a fix whose result has a new error is not kept."""
    from droplint.pipeline import FileResult
    from droplint.report import Edit, Finding, Fix, Severity

    source = "x = 1\n"
    bad = Fix("safe", "breaks", (Edit(1, 5, 1, 6, "undefined_name"),))

    def fake_lint(text):  # a rule offering a fix that introduces an undefined name
        found = [] if "undefined" in text else [
            Finding("DL999", "test", Severity.INFO, "t.py", 1, 1, 1, 2, "m", fix=bad)]
        return FileResult("t.py", found)
    out = fix_text(source, fake_lint)
    assert out.text == source and out.fixed == [] and out.rolled_back
    assert "UndefinedName" in out.rolled_back[0][1]


# --- real Keras: import paths and building ----------------------------------------------------

WRITTEN = sorted({"SpatialDropout1D", "Dropout", "LSTM", "GRU"}
                 | set(getattr(BY_CODE["DL303"], "__module__") and
                       __import__(BY_CODE["DL303"].__module__, fromlist=["REPLACEMENT"])
                       .REPLACEMENT.values()))

PROBE = """
import importlib, json, sys
out = {}
for module in sys.argv[2].split(","):
    try:
        m = importlib.import_module(module)
        out[module] = [n for n in sys.argv[1].split(",") if not hasattr(m, n)]
    except ImportError as exc:
        out[module] = "ImportError: " + str(exc)
print(json.dumps(out))
"""


def _probe(modules: list[str], legacy: bool) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    proc = subprocess.run([sys.executable, "-c", PROBE, ",".join(WRITTEN), ",".join(modules)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.keras
def test_import_paths_a_fix_writes_exist_in_keras3_and_tf_keras2():
    k3 = _probe(["keras.layers", "tensorflow.keras.layers"], legacy=False)
    assert k3 == {"keras.layers": [], "tensorflow.keras.layers": []}
    k2 = _probe(["tf_keras.layers", "tensorflow.keras.layers"], legacy=True)
    assert k2 == {"tf_keras.layers": [], "tensorflow.keras.layers": []}
    assert set(fixes.PUBLIC_LAYERS.values()) == {"keras.layers", "tensorflow.keras.layers",
                                                  "tf_keras.layers"}
    gone = _probe(["tensorflow.python.keras.layers"], legacy=False)
    assert gone["tensorflow.python.keras.layers"] != []  # private: absent or incomplete


BUILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras

    def train_one_step(source):
        ns = {}
        exec(compile(source, "case.py", "exec"), ns)
        models = [v for v in ns.values() if isinstance(v, keras.Model)]
        if not models:
            return "no model"
        model = models[-1]
        def sample(shape, dtype):
            shape = [2 if i == 0 else (5 if s is None else s) for i, s in enumerate(shape)]
            if "int" in str(dtype):
                return np.random.randint(0, 3, size=shape)
            return np.random.rand(*shape).astype("float32")
        ins = model.inputs
        x = [sample(t.shape, t.dtype) for t in ins]
        y = [sample(t.shape, "float32") for t in model.outputs]
        model.compile(optimizer="sgd", loss="mse")
        model.train_on_batch(x if len(x) > 1 else x[0], y if len(y) > 1 else y[0])
        return "ok"

    out = {}
    for case, before, after in json.load(sys.stdin):
        row = {}
        for which, source in (("before", before), ("after", after)):
            try:
                row[which] = train_one_step(source)
            except Exception as exc:
                row[which] = f"{type(exc).__name__}: {str(exc)[:300]}"
        out[case] = row
    print(json.dumps(out))
""")


@pytest.mark.keras
def test_fixed_models_still_build_and_train_one_step():
    items = []
    for case, source, keras in CASES:
        if keras.startswith("2"):
            continue  # tf.keras 2 examples: built by the tf_keras tests elsewhere
        fixed = fix_text(source, lint(keras), unsafe=True).text
        if fixed != source:
            items.append((case, source, fixed))
    assert len(items) >= 10
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, "-c", BUILD], input=json.dumps(items),
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    built = [c for c, r in rows.items() if r["before"] == "ok"]
    assert len(built) >= 5, rows
    broken = {c: r for c, r in rows.items() if r["before"] == "ok" and r["after"] != "ok"}
    assert broken == {}


def test_cudnn_from_a_private_module_is_replaced_by_the_public_import():
    source = ("from tensorflow.python.keras.layers import CuDNNLSTM, Dense, Input\n"
              "from tensorflow.python.keras.models import Model\n"
              "i = Input((5, 3))\n"
              "m = Model(i, Dense(1)(CuDNNLSTM(4)(i)))\n")
    text = fix_text(source, lint("2")).text
    assert text.splitlines()[:2] == ["from tensorflow.keras.layers import LSTM",
                                     "from tensorflow.python.keras.layers import Dense, Input"]
    assert names(text) - names(source) == Counter()


def test_cudnn_next_to_an_imported_replacement_never_writes_a_duplicate():
    source = ("from keras.layers import LSTM, CuDNNLSTM, Input\n"
              "x = CuDNNLSTM(4)(Input((5, 3)))\n"
              "y = LSTM(4)(Input((5, 3)))\n")
    text = fix_text(source, lint("3")).text
    assert text.splitlines()[:2] == ["from keras.layers import LSTM, Input",
                                     "x = LSTM(4)(Input((5, 3)))"]


@pytest.mark.parametrize("first", [
    [(0, 0, "A, ")], [(3, 5, "xyz")], [(0, 0, "A, "), (10, 12, "")], [],
])
def test_merged_edits_equal_applying_both_in_turn(first):
    text = "from k import B, C\nB(C)\n"
    after_first = fixcheck.apply_ranges(text, first)
    for a in range(len(after_first)):
        for b in range(a, min(a + 6, len(after_first)) + 1):
            second = [(a, b, "Q")]
            merged = fixcheck.merge(text, first, after_first, second)
            assert fixcheck.apply_ranges(text, merged) == \
                fixcheck.apply_ranges(after_first, second)
