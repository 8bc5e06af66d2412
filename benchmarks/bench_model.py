"""How long `droplint.analyze(model)` takes on a deep built model.

A functional Keras 3 model of about 1,000 layers: 250 blocks of
LSTM(return_sequences=True) -> Dense -> LayerNormalization -> Dropout, plus an input and a
head. Prints the build time (Keras) and the analyze time (droplint) separately; the target for
analyze is under 0.2 s. Run: python benchmarks/bench_model.py [--blocks 250] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.setrecursionlimit(20000)  # Keras' own graph code recurses per layer when building


def build(blocks: int, timesteps: int = 8, features: int = 4):
    import keras
    from keras import layers

    inputs = keras.Input((timesteps, features))
    x = inputs
    for i in range(blocks):
        x = layers.LSTM(features, return_sequences=True, dropout=0.1 if i % 2 else 0.0)(x)
        x = layers.Dense(features)(x)
        x = layers.LayerNormalization()(x)
        x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    import droplint

    t0 = time.perf_counter()
    model = build(args.blocks)
    build_s = time.perf_counter() - t0
    sys.setrecursionlimit(1000)  # droplint's own walks are iterative: the default limit is enough
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        report = droplint.analyze(model)
        times.append(time.perf_counter() - t0)
    print(f"model: {len(model.layers)} layers, {len(report.sites)} dropout sites, "
          f"{len(report.findings)} findings")
    print(f"build (keras):     {build_s:.2f} s")
    print(f"analyze (droplint): best {min(times):.3f} s, first {times[0]:.3f} s "
          f"over {args.repeat} runs (target < 0.2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
