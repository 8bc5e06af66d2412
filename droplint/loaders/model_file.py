"""Model files: which format a file is, what its config holds, and loading it.

A model file is inspected before anything is loaded: a Lambda layer or other code in the file
is refused (DL901) unless `unsafe_load`. TensorFlow is imported only when a model is loaded.
"""
from __future__ import annotations

import json
import os
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path


class ModelFileError(Exception):
    """A model file cannot be loaded (DL901): the message says why and what to do."""


ModelLoadError = ModelFileError  # old name, until model.py stops using it


_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_UNSAFE_CLASSES = frozenset({"Lambda", "__lambda__"})


def file_kind(path: str) -> str:
    """'keras' (zip archive), 'h5' or 'savedmodel', from the content, not the name."""
    p = Path(path)
    if p.is_dir():
        if (p / "saved_model.pb").is_file():
            return "savedmodel"
        raise ModelFileError("not a model: a directory without saved_model.pb")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ModelFileError(f"cannot read file: {exc.strerror or exc}") from None
    if head.startswith(_ZIP_MAGIC):
        return "keras"
    if head == _HDF5_MAGIC:
        return "h5"
    raise ModelFileError("not a Keras model file: expected a .keras archive (zip), an HDF5 "
                         "file (.h5) or a TensorFlow SavedModel directory")


def read_config(path: str, kind: str) -> dict:
    """The model's architecture config, read without loading the model."""
    try:
        if kind == "keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        if kind == "h5":
            return _h5_config(path)
        return _savedmodel_config(path)
    except ModelFileError:
        raise
    except KeyError:
        raise ModelFileError("not a valid .keras file: config.json is missing") from None
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"corrupt .keras file (truncated or damaged zip): {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"corrupt model config: {exc}") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"corrupt or unreadable {kind} file: {exc}") from None


def _h5_config(path: str) -> dict:
    import h5py

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
    if raw is None:
        raise ModelFileError("HDF5 file without a model config (a weights-only file?): save "
                             "the whole model with model.save(...)")
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def _savedmodel_config(path: str) -> dict:
    meta = Path(path) / "keras_metadata.pb"
    if not meta.is_file():
        raise ModelFileError("a SavedModel without keras_metadata.pb: not saved by tf.keras, "
                             "nothing to analyze")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from tf_keras.protobuf import saved_metadata_pb2
    except ImportError:
        raise ModelFileError("a TensorFlow SavedModel can only be analyzed with tf_keras "
                             "installed (pip install tf-keras)") from None
    proto = saved_metadata_pb2.SavedMetadata()
    proto.ParseFromString(meta.read_bytes())
    return {"nodes": [json.loads(n.metadata) for n in proto.nodes if n.metadata]}


def unsafe_objects(config) -> list[str]:
    """What in a model config would run code or import modules: Lambda layers, serialized
    Python functions, objects from modules other than Keras. Iterative walk."""
    found: list[str] = []
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        stack.extend(value.values())
        cls = value.get("class_name")
        if not isinstance(cls, str):
            continue
        module = value.get("module")
        registered = value.get("registered_name")
        name = value.get("config", {}).get("name") if isinstance(value.get("config"), dict) \
            else None
        label = f"{cls} layer '{name}'" if name else cls
        if cls in _UNSAFE_CLASSES:
            found.append(label)
        elif ">" in cls or (isinstance(registered, str) and ">" in registered):
            found.append(f"custom object {registered or cls}")
        elif isinstance(module, str) and module.split(".")[0] not in (
                "keras", "tf_keras", "builtins"):
            found.append(f"{cls} from module {module}")
    return sorted(set(found))


def _tf_keras_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("tf_keras") is not None


def _use_tf_keras(kind: str) -> bool:
    """SavedModel directories, and everything under TF_USE_LEGACY_KERAS, as tf.keras does."""
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")
    return kind == "savedmodel" or (legacy and _tf_keras_installed())


@contextmanager
def _quiet_native_logs():
    """TensorFlow 2.21 writes its C++ start-up logs (oneDNN, CUDA probing) straight to file
    descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says; hide them while the CLI first imports
    TensorFlow and loads a file. Python errors still arrive as exceptions."""
    if "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _load(path: str, tf_keras: bool, unsafe_load: bool):
    with _quiet_native_logs():
        return _load_noisy(path, tf_keras, unsafe_load)


def _load_noisy(path: str, tf_keras: bool, unsafe_load: bool):
    if tf_keras:
        import tf_keras as keras

        return keras.models.load_model(path, compile=False, safe_mode=not unsafe_load)
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=not unsafe_load)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no message'}"


def load_model_file(path: str, unsafe_load: bool = False) -> tuple[object, list[str]]:
    """Load a model file (Keras safe mode unless unsafe_load): (model, notes on how it was
    loaded). Raises ModelFileError. An HDF5 file saved by Keras 2 that Keras 3 cannot load
    is loaded with tf_keras when it is installed."""
    kind = file_kind(path)
    config = read_config(path, kind)
    if not unsafe_load:
        unsafe = unsafe_objects(config)
        if unsafe:
            raise ModelFileError(
                f"refusing to load: the model contains code ({'; '.join(unsafe)}); nothing "
                "from the file was run. Pass --unsafe-load to load it, only if you trust it")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    legacy = _use_tf_keras(kind)
    try:
        return _load(path, legacy, unsafe_load), []
    except Exception as exc:  # noqa: BLE001 - Keras raises anything on a bad file
        saved_with = _h5_saved_with(path) if kind == "h5" else None
        if legacy or not (saved_with or "").startswith("2.") or not _tf_keras_installed():
            raise ModelFileError(f"cannot load model: {_first_line(exc)}") from None
        first = exc
    try:
        model = _load(path, True, unsafe_load)
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(f"cannot load model: {_first_line(first)} (tf_keras: "
                             f"{_first_line(exc)})") from None
    return model, [f"saved by Keras {saved_with}; Keras 3 cannot load it "
                   f"({_first_line(first)}), so it was loaded and analyzed with tf_keras, "
                   "as tf.keras 2 runs it"]




def _h5_saved_with(path: str) -> str | None:
    """The Keras version an HDF5 model file was saved by (its `keras_version` attribute)."""
    if Path(path).is_dir():
        return None
    try:
        import h5py

        with h5py.File(path, "r") as f:
            value = f.attrs.get("keras_version")
    except (OSError, ValueError, ImportError):
        return None
    return value.decode() if isinstance(value, bytes) else value
