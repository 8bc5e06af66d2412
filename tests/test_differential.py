"""The two loaders agree: every example in examples/ and every rule's BAD/GOOD example is
analyzed from source (never run) and, where real Keras can build it, as the built model.

The examples are executed here, in the test only, to get the keras.Model objects. Both sides
assume the installed Keras. They must agree on codes and sites; the source side may know less
(a null shape, an unknown mask), never something different. Two principled allowances:
- Keras clips RNN `dropout`/`recurrent_dropout` to [0, 1] when the layer is built, so the
  source side is compared as Keras builds it (a negative rate is 0 in the model: no site, and
  its DL304 finding has nothing left to see in the built model).
- Inside a subclassed `call()` Keras records no connections (the model says so in
  `report.notes`): there the built side may know less, never something different.
- DL405's severity depends on TF1 idioms in the file, which a built model lacks: compared by
  code and layer only.
An example that real Keras refuses to build must be one droplint flags with an error.

The second half runs a small seeded sample of benchmarks/differential.py: random small models
in every style and Keras flavour, every dropout measured by running it (droplint.probe), and
every claim, from the source and from the built model, compared with the measurement.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import droplint  # noqa: E402
from droplint.rules import ALL_RULES  # noqa: E402

pytestmark = [pytest.mark.keras, pytest.mark.xdist_group(name="keras")]

ROOT = Path(__file__).resolve().parent.parent
SITE_FIELDS = ("input_shape", "mask_shape", "drops", "per_sample", "over_time", "masks")


@dataclass
class Case:
    id: str
    source: str


@dataclass
class Outcome:
    source: dict  # the source report (to_dict)
    built: list[dict] = field(default_factory=list)  # one report per outermost model
    error: str | None = None  # why real Keras could not run the example


def cases() -> list[Case]:
    out = [Case(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
           for p in sorted((ROOT / "examples").glob("*.py"))]
    for rule in ALL_RULES:
        for kind in ("BAD", "GOOD"):
            for i, source in enumerate(getattr(rule, kind)):
                out.append(Case(f"{rule.code}-{kind}-{i}", source))
    return out


def outermost_models(namespace: dict, keras) -> list:
    """The keras.Model objects the example made, without those used inside another one."""
    models = {id(v): v for v in namespace.values() if isinstance(v, keras.Model)}
    inner: set[int] = set()
    for model in models.values():
        inner |= {id(layer) for layer in model._flatten_layers(include_self=False)}
    return [m for key, m in models.items() if key not in inner]


def run_case(case: Case, keras) -> Outcome:
    outcome = Outcome(droplint.analyze_source(case.source, "example.py",
                                              keras_version=keras.__version__).to_dict())
    namespace = {"__name__": "droplint_example"}
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(case.source, case.id, "exec"), namespace)  # noqa: S102 - test only
    except Exception as exc:  # noqa: BLE001 - whatever real Keras raises
        outcome.error = f"{type(exc).__name__}: {exc}"
        return outcome
    outcome.built = [droplint.analyze(m).to_dict() for m in outermost_models(namespace, keras)]
    return outcome


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    import keras

    return {case.id: run_case(case, keras) for case in cases()}


# --- comparing ------------------------------------------------------------------------------

def _clip(rate):
    return None if rate is None else min(1.0, max(0.0, rate))


def as_keras_builds(source: dict) -> tuple[list[dict], list[dict]]:
    """The source report's sites and findings as Keras builds that source (RNN rates clipped:
    a site whose rate Keras clips to 0 is gone, with its DL304)."""
    gone = {s["id"] for s in source["sites"]
            if s["argument"] and s["rate"] is not None and _clip(s["rate"]) == 0}
    sites = []
    for s in source["sites"]:
        if s["id"] in gone:
            continue
        s = dict(s)
        if s["argument"]:
            s["rate"] = _clip(s["rate"])
        sites.append(s)
    # One DL304 (about the clipped rate) per vanished site of that layer kind goes with it.
    clipped = Counter(s["layer"] for s in source["sites"] if s["id"] in gone)
    findings = []
    for f in source["findings"]:
        if f["site"] in gone:
            continue
        if f["code"] == "DL304" and clipped[f["layer"]] > 0:
            clipped[f["layer"]] -= 1
            continue
        findings.append(f)
    return sites, findings


def unknown(value) -> bool:
    return value is None or value == "unknown"


def consistent(vague, precise) -> bool:
    """The less-informed side's value says nothing different: unknown, equal, or a shape of
    the same rank whose known sizes are equal (partial knowledge)."""
    if unknown(vague) or vague == precise:
        return True
    if isinstance(vague, list) and isinstance(precise, list) and len(vague) == len(precise):
        return all(v is None or v == p for v, p in zip(vague, precise))
    return False


def site_key(site: dict) -> tuple:
    return (site["layer"], site["argument"], site["rate"])


def match_sites(src: list[dict], built: list[dict], built_knows_less: bool) -> tuple[dict, list]:
    """Pair sites (same layer, argument and rate; every field the less-informed side knows
    equal). Returns ({source id: built id}, problems)."""
    pairs, problems, free = {}, [], list(built)
    for s in src:
        fit = None
        for b in free:
            if site_key(b) != site_key(s):
                continue
            knows, other = (b, s) if built_knows_less else (s, b)
            if all(consistent(knows[f], other[f]) for f in SITE_FIELDS):
                fit = b
                break
        if fit is None:
            problems.append(f"source site {site_key(s)} {[s[f] for f in SITE_FIELDS]} has no "
                            f"matching built site")
            continue
        free.remove(fit)
        pairs[s["id"]] = fit["id"]
    problems += [f"built site {site_key(b)} has no source site" for b in free]
    return pairs, problems


# DL405's severity comes from the file (TF1 keep_prob idioms make it a warning), which a built
# model does not have: compared by code and layer only.
SEVERITY_FROM_FILE = {"DL405"}


def finding_keys(findings: list[dict]) -> Counter:
    return Counter((f["code"], None if f["code"] in SEVERITY_FROM_FILE else f["severity"],
                    f["layer"]) for f in findings)


def compare(outcome: Outcome) -> list[str]:
    src_sites, src_findings = as_keras_builds(outcome.source)
    built_sites = [s for r in outcome.built for s in r["sites"]]
    built_findings = [f for r in outcome.built for f in r["findings"]]
    notes = [n for r in outcome.built for n in r["notes"]]
    built_knows_less = bool(notes)
    pairs, problems = match_sites(src_sites, built_sites, built_knows_less)
    src, built = finding_keys(src_findings), finding_keys(built_findings)
    if built_knows_less:
        extra = built - src
        if extra:
            problems.append(f"built model reports {sorted(extra)} that the source does not")
        return problems
    missing = src - built
    if missing:
        problems.append(f"source reports {sorted(missing)} that the built model does not")
    vague = {s["id"] for s in src_sites if any(unknown(s[f]) for f in SITE_FIELDS)}
    vague_built = {pairs[i] for i in vague if i in pairs}
    for f in built_findings:
        key = (f["code"], None if f["code"] in SEVERITY_FROM_FILE else f["severity"],
               f["layer"])
        if built[key] > src[key] and f["site"] not in vague_built:
            problems.append(f"built model reports {key} at a site the source knew fully")
            built[key] -= 1
    return problems


# --- tests ----------------------------------------------------------------------------------

CASES = cases()
EXAMPLES = [c for c in CASES if c.id.startswith("examples")]
RULE_EXAMPLES = [c for c in CASES if not c.id.startswith("examples")]


def _agreement(outcomes: dict, chosen: list[Case]) -> tuple[int, dict[str, list[str]]]:
    compared, problems = 0, {}
    for case in chosen:
        outcome = outcomes[case.id]
        if outcome.built:
            compared += 1
            found = compare(outcome)
            if found:
                problems[case.id] = found
    return compared, problems


def test_examples_agree_with_their_built_models(outcomes):
    compared, problems = _agreement(outcomes, EXAMPLES)
    assert problems == {}
    buildable = [c for c in EXAMPLES if outcomes[c.id].error is None]
    assert compared == len(buildable) >= 3


def test_rule_examples_agree_with_their_built_models(outcomes):
    compared, problems = _agreement(outcomes, RULE_EXAMPLES)
    assert problems == {}
    assert compared >= len(RULE_EXAMPLES) * 2 // 3  # most rule examples build a model


def test_what_keras_cannot_build_droplint_flags_as_an_error(outcomes):
    refused = {c.id: outcomes[c.id] for c in CASES if outcomes[c.id].error}
    assert refused  # CuDNNLSTM, SpatialDropout1D on a 2-D tensor, Dropout(-0.1), ...
    unflagged = {cid: o.error for cid, o in refused.items()
                 if not any(f["severity"] == "error" for f in o.source["findings"])}
    assert unflagged == {}


def test_the_comparison_sees_differences():
    """compare() is not vacuous: a site or finding the other side lacks is a problem."""
    site = {"id": 0, "layer": "Dropout", "argument": None, "rate": 0.3,
            "input_shape": [None, 30, 8], "mask_shape": [None, 30, 8], "drops": "elements",
            "per_sample": True, "over_time": "fresh-each-step", "masks": 1}
    finding = {"code": "DL101", "severity": "info", "layer": "Dropout", "site": 0,
               "message": "m"}
    source = {"sites": [site], "findings": [finding]}
    same = Outcome(source, [{"sites": [site], "findings": [finding], "notes": []}])
    assert compare(same) == []
    other_mask = dict(site, mask_shape=[None, 1, 8], drops="features")
    assert compare(Outcome(source, [{"sites": [other_mask], "findings": [finding],
                                     "notes": []}]))
    assert compare(Outcome(source, [{"sites": [site], "findings": [], "notes": []}]))
    vague = dict(site, input_shape=None, mask_shape=None, drops="unknown", per_sample=None,
                 over_time=None, masks=None)
    knows_less = Outcome({"sites": [vague], "findings": []},
                         [{"sites": [site], "findings": [finding], "notes": []}])
    assert compare(knows_less) == []  # the source may know less


# --- random models, measured (benchmarks/differential.py) ------------------------------------

def _generator():
    import importlib.util

    path = ROOT / "benchmarks" / "differential.py"
    spec = importlib.util.spec_from_file_location("droplint_differential", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def test_generated_models_cover_every_style():
    models = GEN.generate_many(36, seed=7)
    assert {m.api for m in models} == {"keras", "tf.keras", "tf_keras"}
    assert {m.style for m in models} == {"list", "add", "functional"}
    text = "".join(m.source for m in models)
    for name in ("LSTM(", "GRU(", "SimpleRNN(", "Bidirectional(", "TimeDistributed(",
                 "Conv1D(", "Embedding(", "SpatialDropout1D(", "GaussianNoise(",
                 "AlphaDropout(", "noise_shape=", "X.shape[1:]", "recurrent_dropout="):
        assert name in text


@pytest.fixture(scope="module")
def measured_models():
    return GEN.run_all(GEN.generate_many(30, seed=11))


def test_random_models_measured_agree_with_droplint(measured_models):
    c = GEN.counts(measured_models)
    assert GEN.disagreements(measured_models) == []
    assert c["models"] == 30 and c["sites"] >= 40
    assert c["built_unknown"] == 0  # a built model knows every shape
    assert c["source_agree"] >= c["sites"] * 3 // 4  # the source knows most too


def test_the_verdict_sees_a_wrong_claim(measured_models):
    """_verdict is not vacuous: a claim changed to another pattern disagrees."""
    from droplint import probe

    for result in measured_models:
        for s in result["sites"]:
            if s["built"] == "agree" and s["measured"] and s["measured"][1] == "elements":
                shape, drops, per_sample, over_time, masks = s["claims"]["built"]
                wrong = {"mask_shape": [shape[0], 1] + shape[2:], "drops": "features",
                         "per_sample": per_sample, "over_time": "same-every-step",
                         "masks": masks}
                m = s["measured"]
                measured = probe.Measured(s["layer"], s["argument"], tuple(
                    4 if d is None else d for d in shape), None,
                    tuple(m[0]) if m[0] else None, m[1], m[2], m[3], m[4], 0.5, 24,
                    rate=0.5)
                assert GEN._verdict(wrong, measured, None)[0] == "disagree"
                assert GEN._verdict(wrong, None, "TypeError")[0] == "disagree"
                return
    pytest.fail("no element-wise site measured")


def test_partial_shapes_hold_on_the_built_models():
    """The issue's partial-shape models (tests/test_semantics.py), built with real Keras 3
    with their unknown names bound: each source site's known sizes and rank are the real
    ones, and its known mask facts equal the built model's."""
    import numpy as np

    from test_semantics import PARTIAL_MODELS

    bindings = {"X": np.zeros((4, 9, 3, 5)), "max_features": 50, "h": 7, "n": 11, "T": 6}
    for name, (source, _) in PARTIAL_MODELS.items():
        if "merge(" in source:
            continue  # Keras 1 only
        shape = (4, 8, 8, 3) if name == "conv2d_tower" else (4, 9, 5)
        bindings["X"] = np.zeros(shape)
        namespace = dict(bindings)
        exec(compile(source, name, "exec"), namespace)  # noqa: S102 - test only
        model = namespace.get("model")
        if model is None:
            continue
        if not model.built:
            model.build((None, 9))  # Embedding without input_length
        src = droplint.analyze_source(source, "m.py").to_dict()["sites"]
        built = droplint.analyze(model).to_dict()["sites"]
        assert len(src) == len(built), name
        for s, b in zip(src, built):
            assert consistent(s["input_shape"], b["input_shape"]), (name, s, b)
            for f in ("drops", "per_sample", "over_time"):
                assert consistent(s[f], b[f]), (name, f, s, b)


# --- the probe is statistically sound (issue 11) ---------------------------------------------

PROBE_RARE_MASKS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    import tf_keras as keras
else:
    import keras
import droplint
for kind in ("LSTM",):
    for rate in (0.1, 0.05):
        layer = getattr(keras.layers, kind)(10, recurrent_dropout=rate)
        model = keras.Sequential([keras.Input((7, 4)), layer])
        report = droplint.analyze(model, probe=True)
        codes = [f.code for f in report.findings]
        probed = [s.probe for s in report.sites]
        print(kind, rate, "DL902" in codes, probed[0]["drops"], probed[0]["masks"])
"""


@pytest.mark.parametrize("legacy", ["0", "1"], ids=["keras3", "tf_keras"])
def test_rare_gate_masks_are_measured_not_called_missing(legacy):
    """LSTM(recurrent_dropout=0.1 or 0.05): an entry is cut from every gate only with
    chance rate**4, so the probe measures each gate's mask alone and reports nothing it is
    not statistically certain of: no DL902, each gate's mask seen dropping units."""
    import subprocess

    env = dict(os.environ, TF_USE_LEGACY_KERAS=legacy, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", PROBE_RARE_MASKS], env=env, text=True,
                         capture_output=True, check=True, cwd=ROOT).stdout.split("\n")
    rows = [line.split() for line in out if line.startswith("LSTM")]
    assert len(rows) == 2
    for kind, rate, dl902, drops, masks in rows:
        assert dl902 == "False", (kind, rate)
        assert drops == "units", (kind, rate)
        assert masks == "4", (kind, rate)  # one per gate, from the fraction all four cut


def test_probe_reports_only_certain_differences_and_says_how_certain():
    """probe.compare: a difference whose chance under the claim is not below 1e-6 is not
    reported; a reported one says how unlikely it would be if droplint were right."""
    from droplint import probe
    from droplint.semantics import Mask

    claim = Mask((None, 10), "units", True, "same-every-step", 1)

    def seen(drops, fraction, draws, mask_shape=(4, 10)):
        return probe.Measured("LSTM", "recurrent_dropout", (4, 10), None, mask_shape, drops,
                              mask_shape[0] != 1 if drops != "none" else None,
                              None if drops == "none" else "same-every-step", None,
                              fraction, draws, rate=0.05)

    # 0.95**(40 * 8) = 7e-8: certain; 0.95**(40 * 2) = 0.017: not certain
    assert probe.compare(claim, seen("none", 0.0, 2)) == []
    certain = probe.compare(claim, seen("none", 0.0, 8))
    assert len(certain) == 1 and "dropped nothing" in certain[0]
    assert "chance below 1e-7 if droplint were right" in certain[0]
    # constant across the batch in 3 draws is likely for rate 0.05; in 200 draws it is not
    shared = (1, 10)
    assert probe.compare(claim, seen("units", 0.05, 3, shared)) == []
    assert any("per sample" in d for d in probe.compare(claim, seen("units", 0.05, 200,
                                                                    shared)))
    # what a claim rules out is impossible, however few the draws
    wrong = Mask((None, 1), "samples", True, "same-every-step", 1)
    assert any("impossible if droplint were right" in d
               for d in probe.compare(wrong, seen("units", 0.05, 1)))
