"""Differential test of droplint against real Keras: random small models, every dropout measured.

    python benchmarks/differential.py [--models 300] [--seed 0] [--show-disagreements]

Generates random small Keras models in every style (Sequential list, Sequential.add,
functional; `keras`, `tf.keras`, `tf_keras`) with recurrent layers, wrappers, convolutions,
embeddings, every dropout kind and noise_shape form, and input shapes that the source states,
leaves partly unknown (`Input(shape=(None, F))`) or hides (`shape=X.shape[1:]`). Each model is
built with real Keras 3 (in this process) and tf_keras (a subprocess with
TF_USE_LEGACY_KERAS=1); every dropout site's mask is measured by droplint.probe (the layer
alone, training=True on ones, many draws; RNN masks through input/state gradients) and
compared field by field with droplint's claims from the SOURCE (analyze_source) and from the
BUILT model (analyze(model)). A known claim that differs from the measurement is a
disagreement; an unknown is counted. Prints models, sites, agreements, unknowns and
disagreements per side. tests/test_differential.py runs a small seeded sample of the same.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import warnings
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

T_CHOICES = (1, 5, 7)
F_CHOICES = (1, 4, 6)
RATES = (0.3, 0.5)


# ---------------------------------------------------------------------------------------------
# Generating models: source text only (plain strings, no Keras needed)

@dataclass
class Model:
    id: str
    api: str  # "keras" | "tf.keras" | "tf_keras"
    style: str  # "list" | "add" | "functional"
    source: str
    layers: list = field(default_factory=list)


def _noise_shape(rng: random.Random, shape: tuple) -> str | None:
    """A noise_shape valid for `shape` (batch axis first), written as source."""
    rank = len(shape)
    forms = [None]
    if rank == 3:
        t, f = shape[1], shape[2]
        forms += [f"(None, 1, {f})", f"(None, {t}, 1)", f"(1, {t}, 1)", "(None, 1, 1)",
                  f"({f},)", f"(1, 1, {f})"]
    elif rank == 2:
        forms += [f"(None, {shape[1]})", f"(1, {shape[1]})", "(None, 1)"]
    return rng.choice(forms)


def _dropout(rng: random.Random, shape: tuple) -> tuple[str, tuple]:
    rate = rng.choice(RATES)
    kind = rng.choice(["Dropout", "Dropout", "Dropout", "SpatialDropout1D", "GaussianDropout",
                       "GaussianNoise", "AlphaDropout", "TimeDistributed"])
    if kind == "SpatialDropout1D" and len(shape) != 3:
        kind = "Dropout"
    if kind == "TimeDistributed" and len(shape) != 3:
        kind = "Dropout"
    if kind == "GaussianNoise":
        return f"GaussianNoise({rate})", shape
    if kind in ("GaussianDropout", "SpatialDropout1D"):
        return f"{kind}({rate})", shape
    if kind == "TimeDistributed":
        step = (shape[0],) + shape[2:]
        ns = rng.choice([None, f"(None, {step[1]})", f"(1, {step[1]})"])
        inner = f"Dropout({rate}" + (f", noise_shape={ns})" if ns else ")")
        return f"TimeDistributed({inner})", shape
    ns = _noise_shape(rng, shape)
    if kind == "AlphaDropout" and ns is not None and "None" in ns and rng.random() < 0.7 \
            and ns.startswith("(None"):
        # mostly the form that trains (batch 4 in the probe); only the batch axis: a time
        # axis the source leaves unknown is not 4 when it runs
        ns = "(4" + ns[len("(None"):]
    return f"{kind}({rate}" + (f", noise_shape={ns})" if ns else ")"), shape


def _recurrent(rng: random.Random, shape: tuple, api: str, last: bool) -> tuple[str, tuple]:
    kind = rng.choice(["LSTM", "GRU", "SimpleRNN"])
    units = rng.choice((1, 3, 5))
    dropout, recurrent = rng.random() < 0.7, rng.random() < 0.4
    # Input masks are read through gradients: a recurrent_dropout state mask (or a 1-unit
    # state) on the path to the last output would hide inputs too, so both arguments together
    # come with return_sequences=True and more than one unit.
    seq = (not last and rng.random() < 0.7) or (dropout and recurrent)
    if dropout and recurrent:
        units = max(units, 3)
    args = [str(units)]
    if seq:
        args.append("return_sequences=True")
    if dropout:
        args.append(f"dropout={rng.choice(RATES)}")
    if recurrent:
        args.append(f"recurrent_dropout={rng.choice(RATES)}")
    if kind != "SimpleRNN" and rng.random() < 0.15:
        args.append("implementation=1")
    if shape[1] is not None and rng.random() < 0.15:
        args.append("unroll=True")
    call = f"{kind}({', '.join(args)})"
    out_units = units
    if rng.random() < 0.3:
        call = f"Bidirectional({call})"
        out_units = 2 * units
    out = (None, shape[1], out_units) if seq else (None, out_units)
    return call, out


def _body(rng: random.Random, shape: tuple, api: str) -> list[tuple[str, tuple]]:
    """Layer calls (source text) and the shape after each, starting from `shape`."""
    calls = []
    n = rng.randint(2, 5)
    for i in range(n):
        last = i == n - 1
        choice = rng.random()
        if len(shape) == 3 and choice < 0.35:
            call, shape = _recurrent(rng, shape, api, last)
        elif len(shape) == 3 and choice < 0.45:
            filters = rng.choice((2, 4))
            call, shape = f"Conv1D({filters}, 2, padding='same')", shape[:2] + (filters,)
        elif len(shape) == 3 and choice < 0.5:
            k = rng.choice((2, 3))
            call, shape = f"TimeDistributed(Dense({k}))", shape[:2] + (k,)
        elif choice < 0.6:
            k = rng.choice((1, 3))
            call, shape = f"Dense({k})", shape[:-1] + (k,)
        else:
            call, shape = _dropout(rng, shape)
        calls.append((call, shape))
    if not any(_is_site(c) for c, _ in calls):
        call, shape = _dropout(rng, shape)
        calls.append((call, shape))
    return calls


def _is_site(call: str) -> bool:
    return "ropout" in call or "Noise" in call


def _imports(api: str) -> str:
    names = ("Input, Dense, Dropout, SpatialDropout1D, GaussianDropout, GaussianNoise, "
             "AlphaDropout, LSTM, GRU, SimpleRNN, Bidirectional, TimeDistributed, Conv1D, "
             "Embedding")
    if api == "keras":
        return f"import numpy as np\nimport keras\nfrom keras.layers import {names}\n"
    if api == "tf_keras":
        return f"import numpy as np\nimport tf_keras as keras\nfrom tf_keras.layers import {names}\n"
    return (f"import numpy as np\nimport tensorflow as tf\nkeras = tf.keras\n"
            f"from tensorflow.keras.layers import {names}\n")


def generate(rng: random.Random, index: int, api: str) -> Model:
    style = rng.choice(["list", "add", "functional"])
    embed = rng.random() < 0.25
    t = rng.choice(T_CHOICES)
    f = rng.choice(F_CHOICES)
    hide = rng.choice(["known", "known", "time", "hidden"])
    shape_text = {"known": f"({t}, {f})", "time": f"(None, {f})", "hidden": "X.shape[1:]"}[hide]
    lines = [_imports(api), f"X = np.zeros((4, {t}, {f}))\n" if hide == "hidden" else ""]
    first: list[str] = []
    if embed:
        d = rng.choice((1, 4))
        length = "" if rng.random() < 0.5 else f", input_length={t}"
        if api == "keras":
            length = ""  # Keras 3 has no input_length
        first_input = f"Input(shape=({t},))" if hide != "time" else "Input(shape=(None,))"
        first.append(f"Embedding(12, {d}{length})")
        shape = (None, None if hide == "time" else t, d)
    else:
        first_input = f"Input(shape={shape_text})"
        shape = (None, None if hide == "time" else t, f)
    calls = first + [c for c, _ in _body(rng, shape, api)]
    if style == "list":
        items = ",\n    ".join([first_input] + calls)
        lines.append(f"model = keras.Sequential([\n    {items},\n])\n")
    elif style == "add":
        lines.append("model = keras.Sequential()\n")
        lines.append(f"model.add({first_input})\n")
        lines += [f"model.add({c})\n" for c in calls]
    else:
        lines.append(f"inputs = {first_input}\nx = inputs\n")
        lines += [f"x = {c}(x)\n" for c in calls]
        lines.append("model = keras.Model(inputs, x)\n")
    return Model(f"m{index}-{api}-{style}", api, style, "".join(lines), calls)


def generate_many(count: int, seed: int) -> list[Model]:
    rng = random.Random(seed)
    apis = ("keras", "tf.keras", "tf_keras")
    return [generate(rng, i, apis[i % 3]) for i in range(count)]


# ---------------------------------------------------------------------------------------------
# Running one model (inside a process with the right Keras)

FIELDS = ("mask_shape", "drops", "per_sample", "over_time", "masks")


def _claim(site: dict):
    from droplint.semantics import Mask

    shape = None if site["mask_shape"] is None else tuple(site["mask_shape"])
    return Mask(shape, site["drops"], site["per_sample"], site["over_time"], site["masks"])


def _keras_layer(model, name: str):
    for layer in model._flatten_layers(include_self=False):
        if layer.name == name:
            return layer
    return None


def _input_shape(layer) -> tuple:
    try:
        return tuple(layer.input.shape)
    except Exception:  # noqa: BLE001 - tf_keras keeps it elsewhere
        return tuple(layer.input_shape)


def _as_run(site: dict, measured) -> dict | None:
    """The claim with each size it left unknown that ran as 1 set to 1, and what follows by
    the size-1 convention (constant along that axis; a 1-step sequence is same-every-step);
    None when no unknown size ran as 1. The claim for an unknown size is conditional
    (README: "a size droplint cannot know is taken as longer than 1"), so a difference that
    this explains is counted as an unknown, never as an agreement; any other difference
    still disagrees."""
    from droplint.semantics import _drops_from_shape

    said, ran, mask = site.get("input_shape"), measured.input_shape, site["mask_shape"]
    if said is None or mask is None or not len(said) == len(ran) == len(mask):
        return None
    ones = {i for i in range(1, len(ran)) if said[i] is None and ran[i] == 1}
    if not ones:
        return None
    shape = tuple(1 if i in ones else d for i, d in enumerate(said))
    mask = tuple(1 if i in ones else d for i, d in enumerate(mask))
    drops = site["drops"]
    if drops not in ("none", "noise", "unknown"):
        drops = _drops_from_shape(mask, shape)
    over_time = site["over_time"]
    if 1 in ones and len(ran) >= 3 and over_time is not None:
        over_time = "same-every-step"
    return dict(site, input_shape=list(shape), mask_shape=list(mask), drops=drops,
                over_time=over_time)


def _verdict(site: dict | None, measured, failure: str | None) -> tuple[str, str]:
    """("agree" | "unknown" | "disagree", why) for one side's claim about one site."""
    from droplint import probe

    if site is None:
        return "disagree", "no site"
    if failure is not None:
        if site["drops"] == "unknown" and site["mask_shape"] is None:
            return "agree", "fails in training and droplint explains no mask"
        return "disagree", f"droplint explains a mask but Keras fails in training: {failure}"
    if site["drops"] == "unknown":
        return "unknown", ""
    problems = probe.compare(_claim(site), measured)
    if not problems:
        return "agree", ""
    conditional = _as_run(site, measured)
    if conditional is not None and not probe.compare(_claim(conditional), measured):
        return "unknown", "a size droplint could not know (taken as > 1) is 1"
    return "disagree", "; ".join(problems)


def run_model(model: Model, keras_version: str) -> dict:
    """Build, analyze both ways, measure: {id, error, sites: [{layer, argument, source,
    built, why}]}."""
    import droplint
    from droplint import probe

    result = {"id": model.id, "error": None, "sites": []}
    source = droplint.analyze_source(model.source, "model.py",
                                     keras_version=keras_version).to_dict()
    namespace: dict = {"__name__": "differential_model"}
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(model.source, model.id, "exec"), namespace)  # noqa: S102 - generated
        built_model = namespace["model"]
        built = droplint.analyze(built_model).to_dict()
    except Exception as exc:  # noqa: BLE001 - whatever real Keras raises
        result["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return result
    src_sites = source["sites"]
    built_sites = built["sites"]
    if len(src_sites) != len(built_sites):
        result["error"] = (f"site counts differ: source {len(src_sites)}, "
                           f"built {len(built_sites)}")
    for i, b in enumerate(built_sites):
        s = src_sites[i] if i < len(src_sites) else None
        if s is not None and (s["layer"], s["argument"]) != (b["layer"], b["argument"]):
            s = None
        layer = _keras_layer(built_model, b["layer_name"])
        measured, failure = None, None
        try:
            measured = probe.measure(layer, _input_shape(layer), argument=b["argument"],
                                     draws=24)
        except probe.ProbeError as exc:
            failure = str(exc)[:160]
        src_verdict = _verdict(s, measured, failure)
        built_verdict = _verdict(b, measured, failure)
        result["sites"].append({
            "layer": b["layer"], "argument": b["argument"],
            "source": src_verdict[0], "built": built_verdict[0],
            "why": {"source": src_verdict[1], "built": built_verdict[1]},
            "claims": {"source": None if s is None else [s[f] for f in FIELDS],
                       "built": [b[f] for f in FIELDS]},
            "measured": None if measured is None else [
                list(measured.mask_shape) if measured.mask_shape else None, measured.drops,
                measured.per_sample, measured.over_time, measured.masks]})
    return result


def run_here(models: list[Model]) -> list[dict]:
    """Run models with the Keras of this process (Keras 3, or tf_keras when
    TF_USE_LEGACY_KERAS is set)."""
    if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
        import tf_keras as keras
    else:
        import keras
    return [run_model(m, keras.__version__) for m in models]


def run_legacy(models: list[Model]) -> list[dict]:
    """Run models under tf_keras in a subprocess (TF_USE_LEGACY_KERAS=1)."""
    if not models:
        return []
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    payload = json.dumps([m.__dict__ for m in models])
    out = subprocess.run([sys.executable, __file__, "--worker"], input=payload, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_all(models: list[Model]) -> list[dict]:
    """Keras 3 for `keras` models and half of `tf.keras`; tf_keras for the rest."""
    legacy = [m for i, m in enumerate(models) if m.api == "tf_keras"
              or (m.api == "tf.keras" and i % 2)]
    here = [m for m in models if m not in legacy]
    return run_here(here) + run_legacy(legacy)


def counts(results: list[dict]) -> dict:
    c = {"models": len(results), "errors": sum(1 for r in results if r["error"]),
         "sites": sum(len(r["sites"]) for r in results)}
    for side in ("source", "built"):
        for verdict in ("agree", "unknown", "disagree"):
            c[f"{side}_{verdict}"] = sum(1 for r in results for s in r["sites"]
                                         if s[side] == verdict)
    return c


def disagreements(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        if r["error"]:
            out.append(f"{r['id']}: {r['error']}")
        for s in r["sites"]:
            for side in ("source", "built"):
                if s[side] == "disagree":
                    out.append(f"{r['id']} {s['layer']}/{s['argument']} {side}: "
                               f"{s['why'][side]} claims={s['claims'][side]} "
                               f"measured={s['measured']}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show-disagreements", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        models = [Model(**d) for d in json.loads(sys.stdin.read())]
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_here(models)
        print(json.dumps(results))
        return 0
    models = generate_many(args.models, args.seed)
    results = run_all(models)
    c = counts(results)
    print(f"models {c['models']} (not built or site counts differ: {c['errors']}), "
          f"sites {c['sites']}")
    for side in ("source", "built"):
        print(f"  {side:6}: agreements {c[side + '_agree']}, unknowns {c[side + '_unknown']}, "
              f"disagreements {c[side + '_disagree']}")
    problems = disagreements(results)
    if args.show_disagreements:
        for line in problems:
            print("  " + line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
