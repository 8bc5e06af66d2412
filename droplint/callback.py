"""A Keras callback that lints the model when `fit` starts.

    model.fit(x, y, callbacks=[DroplintCallback(raise_on="error")])

At `on_train_begin` the model (built by then) is analyzed like `droplint.analyze(model)`; the
findings are printed with the text renderer, and `raise_on` ("error", "warning" or "info")
stops training with `DroplintError` when a finding is at or above that severity. The report
is kept in `callback.report`.

The same callback object works in `fit` of a Keras 3 model and of a tf.keras 2 (tf_keras)
model, with or without `TF_USE_LEGACY_KERAS`: its base class is the Callback of Keras 3 (of
tf_keras when `TF_USE_LEGACY_KERAS` is set, as `tf.keras` itself does, or when only tf_keras is
installed), and it also speaks the other Keras' callback protocol (tf_keras' CallbackList asks
every callback `_implements_train_batch_hooks()` and friends, which Keras 3 callbacks lack).
Importing this module imports that Keras.
"""
from __future__ import annotations

import os
import sys

from .config import parse_severity
from .report import Report, Severity


def _callback_base() -> type:
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        try:
            import tf_keras

            return tf_keras.callbacks.Callback
        except ImportError:
            pass
    try:
        import keras
    except ImportError:  # only tf_keras here
        import tf_keras

        return tf_keras.callbacks.Callback
    return keras.callbacks.Callback


class _BothKeras:
    """What tf_keras 2's CallbackList and fit() read from a callback beyond the hooks Keras 3
    has too: this callback uses no batch hooks, takes NumPy logs, and runs on every worker.
    (Keras 3 reads none of these; a tf_keras base class already has them.)"""

    _supports_tf_logs = False
    _chief_worker_only = None

    def _implements_train_batch_hooks(self) -> bool:
        return False

    def _implements_test_batch_hooks(self) -> bool:
        return False

    def _implements_predict_batch_hooks(self) -> bool:
        return False


class DroplintError(RuntimeError):
    """Raised by DroplintCallback when a finding reaches `raise_on`."""

    def __init__(self, message: str, report: Report):
        super().__init__(message)
        self.report = report


def format_report(report: Report) -> str:
    """The findings and notes as the CLI's text output prints them."""
    from .render.text import render_full

    return render_full(report).plain.rstrip("\n")


class DroplintCallback(_BothKeras, _callback_base()):
    """Analyze the model with droplint when training starts.

    Args:
        raise_on: "error", "warning" or "info": raise DroplintError (before the first batch)
            when a finding is at or above this severity; None (default) never raises.
        select, ignore: rule codes or names, as `--select` / `--ignore`.
        probe: also run every dropout site in training mode and compare (slower).
        verbose: print the findings (default True); quiet when there are none.
        stream: where to print (default sys.stdout).
    """

    def __init__(self, raise_on: str | None = None, *, select=None, ignore=None,
                 probe: bool = False, verbose: bool = True, stream=None):
        super().__init__()
        self.raise_on: Severity | None = parse_severity(raise_on) if raise_on else None
        from .api import checked_settings

        # "DL101" or ["DL101", "dropout-on-output"]; an unknown code is a ValueError here
        self.settings = checked_settings(None, select=select or None, ignore=ignore or None)
        self.probe = probe
        self.verbose = verbose
        self.stream = stream
        self.report: Report | None = None

    def on_train_begin(self, logs=None):
        from .api import analyze_model

        self.report = report = analyze_model(self.model, self.settings, probe=self.probe)
        if self.verbose and (report.findings or report.notes):
            print(format_report(report), file=self.stream or sys.stdout)
        if self.raise_on is None:
            return
        hits = [f for f in report.findings if f.severity.rank >= self.raise_on.rank]
        if hits:
            codes = ", ".join(sorted({f.code for f in hits}))
            raise DroplintError(
                f"droplint: {len(hits)} finding(s) at or above {self.raise_on.value} in model "
                f"'{self.model.name}' ({codes}); training stopped before the first batch",
                report)
