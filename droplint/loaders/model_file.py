"""Model files: which format a file is, what its config holds, and loading it.

The one rule: what is inspected is exactly what is loaded, by the loader of the inspected
format. So a model file is first copied into a private folder (0700, ours alone: nobody can
change it between inspection and loading), its format is decided once from that copy's content
(zip, HDF5 or a SavedModel folder; a file valid as two formats, or whose name says another
format, is refused), and the copy is named after that format (`model.keras`, `model.h5`,
`saved_model/`) so that Keras' and tf_keras' own dispatch on the extension picks the loader of
the inspected format. The config that loader reads (config.json, the HDF5 `model_config`
attribute, keras_metadata.pb) is read with bounded sizes and nesting, and walked completely: a
Lambda, a serialized function, an object from a module outside Keras, a class registered
outside Keras, or another layer that runs code it was given is refused (DL901) unless
`unsafe_load`. This matters most for HDF5 under tf_keras, whose legacy loader ignores
safe_mode. TensorFlow is imported only when a model is loaded, never for a refusal.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

MAX_MEMBER_BYTES = 64 * 2**20  # config.json, metadata, model_config, keras_metadata.pb
MAX_INFLATION = 200  # a member over MAX_MEMBER_BYTES inflating more than this is a zip bomb
MAX_DEPTH = 200  # JSON nesting of a model config (real models: a few dozen)
QUOTE_CHARS = 200  # longest text from a file or an exception quoted in a message

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_KERAS_ROOTS = frozenset({"keras", "tf_keras"})
# Layers that run code or load other artifacts they are given: a Python lambda or function,
# a SavedModel from a path (TFSMLayer), JAX/Flax functions, a pickled torch module.
_CODE_CLASSES = frozenset({"Lambda", "__lambda__", "TFSMLayer", "JaxLayer", "FlaxLayer",
                           "TorchModuleWrapper"})
_TF_OP_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
# TensorFlow namespaces/functions a TFOpLambda must not name: file and process I/O, any op
# (raw_ops), Python callbacks, printing.
_TF_OP_DENIED = frozenset({"io", "raw_ops", "gfile", "summary", "saved_model", "debugging",
                           "data", "lookup", "compat", "experimental", "train", "print",
                           "py_function", "numpy_function", "py_func", "load_op_library",
                           "load_library", "write_file", "read_file", "distribute", "tpu",
                           "config", "sysconfig", "autograph", "function", "xla"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KIND_NAMES = {"keras": "model.keras", "h5": "model.h5", "savedmodel": "saved_model"}
_FORMAT_WORDS = {"keras": "a .keras archive (zip)", "h5": "an HDF5 file",
                 "savedmodel": "a SavedModel folder"}


class ModelFileError(Exception):
    """A model file cannot be loaded (DL901): the message says why and what to do."""


def short(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line of at most `limit` characters, for quoting a file or an exception (control
    characters shown as visible ones: render/escape.py)."""
    from ..render.escape import safe_text

    line = safe_text(" ".join(str(text).split()), keep_newlines=False)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {short(text[0]) if text else 'no message'}"


# --------------------------------------------------------------------------------------------
# The format, decided once from the content


def _hdf5_offsets(size: int):
    """Where HDF5 looks for its signature: 0, then 512, 1024, 2048, ... (a user block)."""
    offset = 0
    while offset + len(_HDF5_MAGIC) <= size:
        yield offset
        offset = 512 if offset == 0 else offset * 2


def content_formats(path: str) -> set[str]:
    """The formats a regular file's bytes are valid as: 'keras' (a zip archive: a local header
    at offset 0 or an end record zip readers find), 'h5' (the HDF5 signature at any offset
    HDF5 accepts)."""
    found = set()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if f.read(4) == _ZIP_MAGIC or zipfile.is_zipfile(f):
            found.add("keras")
        for offset in _hdf5_offsets(size):
            f.seek(offset)
            if f.read(len(_HDF5_MAGIC)) == _HDF5_MAGIC:
                found.add("h5")
                break
    return found


def file_kind(path: str) -> str:
    """'keras' (zip archive), 'h5' or 'savedmodel', from the content alone; refused
    (ModelFileError) when the content is none of them, both, or not what the name says."""
    p = Path(path)
    if p.is_dir():
        if (p / "saved_model.pb").is_file():
            return "savedmodel"
        raise ModelFileError("not a model: a folder without saved_model.pb (a .keras or .h5 "
                             "model is one file; a SavedModel is a folder with saved_model.pb)")
    try:
        formats = content_formats(path)
    except OSError as exc:
        raise ModelFileError(f"cannot read file: {exc.strerror or exc}") from None
    if len(formats) > 1:
        raise ModelFileError("refusing an ambiguous file: it is valid both as a zip archive "
                             "(.keras) and as an HDF5 file (.h5), so different loaders would "
                             "read different models from it; nothing was loaded")
    if not formats:
        raise ModelFileError("not a Keras model file: expected a .keras archive (zip), an HDF5 "
                             "file (.h5) or a TensorFlow SavedModel directory")
    (kind,) = formats
    _check_name(path, kind)
    return kind


def _check_name(path: str, kind: str) -> None:
    """A .keras name must hold a zip archive, a .h5/.hdf5 name an HDF5 file."""
    suffix = Path(path).suffix.lower()
    named = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}.get(suffix)
    if named is not None and named != kind:
        raise ModelFileError(
            f"refusing a file whose name and content disagree: named {suffix} but it is "
            f"{_FORMAT_WORDS[kind]}; nothing was loaded. Rename it if it is what you expect")


# --------------------------------------------------------------------------------------------
# A private copy: what is inspected is what is loaded


def _open_regular(path: str) -> int:
    """A read-only descriptor of a regular file (never blocks on a FIFO or reads a device)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ModelFileError(f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ModelFileError("not a regular file (a FIFO, socket or device): not read")
    return fd


def _copy_file(source: str, target: str) -> None:
    fd = _open_regular(source)
    with os.fdopen(fd, "rb") as src, open(target, "xb") as dst:
        shutil.copyfileobj(src, dst, 2**20)


def _copy_folder(source: str, target: str) -> None:
    """Copy a SavedModel folder: regular files (symlinks to regular files followed), folders
    (symlinked folders not followed); anything else is left out."""
    os.mkdir(target, 0o700)
    for root, dirs, files in os.walk(source):
        rel = os.path.relpath(root, source)
        here = target if rel == "." else os.path.join(target, rel)
        for name in dirs:
            os.mkdir(os.path.join(here, name), 0o700)
        for name in files:
            try:
                _copy_file(os.path.join(root, name), os.path.join(here, name))
            except ModelFileError:
                continue


@contextmanager
def private_copy(path: str):
    """(copy path, kind): the model copied into a fresh 0700 folder and named after the format
    its content has. The folder is removed afterwards."""
    folder = tempfile.mkdtemp(prefix="droplint-model-")
    try:
        if Path(path).is_dir():
            kind = file_kind(path)
            copy = os.path.join(folder, _KIND_NAMES[kind])
            _copy_folder(path, copy)
            kind = file_kind(copy)
        else:
            raw = os.path.join(folder, "model.bin")
            _copy_file(path, raw)
            kind = file_kind(raw)
            _check_name(path, kind)
            copy = os.path.join(folder, _KIND_NAMES[kind])
            os.rename(raw, copy)
        yield copy, kind
    except OSError as exc:
        raise ModelFileError(f"cannot copy the model to a private folder: "
                             f"{short(exc.strerror or exc)}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The config the loader will read: bounded sizes, bounded nesting


def parse_json(data: bytes | str, what: str):
    """JSON with bounded nesting; ModelFileError for anything else."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ModelFileError(f"{what} is nested too deeply to be a model config") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"corrupt model config: {what}: {short(exc)}") from None
    if json_depth(value) > MAX_DEPTH:
        raise ModelFileError(f"{what} is nested more than {MAX_DEPTH} levels deep: not a "
                             "model config droplint reads")
    return value


def json_depth(value) -> int:
    """The nesting depth of a parsed JSON value (iterative)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def check_zip_members(archive: zipfile.ZipFile) -> None:
    """Refuse what a loader would choke on or be fooled by: duplicate names (readers differ on
    which one counts), encrypted members, members inflating past the bounds (zip bombs)."""
    seen: set[str] = set()
    for info in archive.infolist():
        if info.filename in seen:
            raise ModelFileError(f"refusing a .keras file with two members named "
                                 f"'{short(info.filename, 60)}'")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise ModelFileError(f"refusing a .keras file with an encrypted member "
                                 f"'{short(info.filename, 60)}'")
        big = info.file_size > MAX_MEMBER_BYTES
        if big and info.file_size > MAX_INFLATION * max(info.compress_size, 1):
            raise ModelFileError(
                f"refusing a possible zip bomb: '{short(info.filename, 60)}' inflates from "
                f"{_mb(info.compress_size)} to {_mb(info.file_size)}")


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A zip member of at most MAX_MEMBER_BYTES, read with that limit."""
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise ModelFileError(f"{name} is {_mb(info.file_size)} uncompressed (over "
                             f"{_mb(MAX_MEMBER_BYTES)}): not read")
    with archive.open(info) as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ModelFileError(f"{name} is over {_mb(MAX_MEMBER_BYTES)} uncompressed: not read")
    return data


def _zip_config(path: str) -> dict:
    with zipfile.ZipFile(path) as archive:
        check_zip_members(archive)
        return parse_json(read_member(archive, "config.json"), "config.json")


def read_config(path: str, kind: str):
    """The model's architecture config, read without loading the model."""
    try:
        if kind == "keras":
            config = _zip_config(path)
        elif kind == "h5":
            config = _h5_config(path)
        else:
            config = _savedmodel_config(path)
    except ModelFileError:
        raise
    except KeyError:
        raise ModelFileError("not a valid .keras file: config.json is missing") from None
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"corrupt .keras file (truncated or damaged zip): "
                             f"{short(exc)}") from None
    except (NotImplementedError, RuntimeError) as exc:  # compression or encryption zipfile lacks
        raise ModelFileError(f"unsupported .keras file: {short(exc)}") from None
    except (OSError, ValueError, TypeError, EOFError) as exc:
        raise ModelFileError(f"corrupt or unreadable {kind} file: {short(exc)}") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"corrupt model config: a JSON {type(config).__name__}, not an "
                             "object")
    return config


def _h5_config(path: str):
    import h5py
    import numpy as np

    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise ModelFileError("HDF5 file without a model config (a weights-only file?): "
                                 "save the whole model with model.save(...)")
        size = f.attrs.get_id("model_config").get_storage_size()
        if size > MAX_MEMBER_BYTES:
            raise ModelFileError(f"model_config is {_mb(size)} (over "
                                 f"{_mb(MAX_MEMBER_BYTES)}): not read")
        raw = f.attrs["model_config"]
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw[()]
    if isinstance(raw, np.bytes_):
        raw = bytes(raw)
    if not isinstance(raw, (bytes, str)):
        raise ModelFileError(f"corrupt HDF5 model: model_config is {_describe(raw)}, not a "
                             "JSON text")
    return parse_json(raw, "model_config")


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    if shape:
        return f"an array of shape {tuple(shape)}"
    return f"a {type(value).__name__}"


def _savedmodel_config(path: str) -> dict:
    meta = Path(path) / "keras_metadata.pb"
    if not meta.is_file():
        raise ModelFileError("a SavedModel without keras_metadata.pb: not saved by tf.keras, "
                             "nothing to analyze")
    if meta.stat().st_size > MAX_MEMBER_BYTES:
        raise ModelFileError(f"keras_metadata.pb is over {_mb(MAX_MEMBER_BYTES)}: not read")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from tf_keras.protobuf import saved_metadata_pb2
    except ImportError:
        raise ModelFileError("a TensorFlow SavedModel can only be analyzed with tf_keras "
                             "installed (pip install tf-keras)") from None
    proto = saved_metadata_pb2.SavedMetadata()
    try:
        proto.ParseFromString(meta.read_bytes())
        texts = [n.metadata for n in proto.nodes if n.metadata]
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise ModelFileError(f"corrupt keras_metadata.pb: {_first_line(exc)}") from None
    return {"nodes": [parse_json(text, "keras_metadata.pb") for text in texts]}


# --------------------------------------------------------------------------------------------
# What in a config runs code


def _keras_module(module) -> bool:
    return module is None or (isinstance(module, str)
                              and module.split(".")[0] in _KERAS_ROOTS)


def _label(entry: dict, cls: str) -> str:
    config = entry.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    return f"{cls} layer '{short(name, 60)}'" if isinstance(name, str) else short(cls, 80)


def _entry_problem(entry: dict) -> str | None:
    """Why one config entry (a dict) would run code or import something, or None."""
    if entry.get("function_type") == "lambda" or entry.get("output_shape_type") == "lambda":
        return "a serialized Python lambda"
    module = entry.get("module")
    if not _keras_module(module):
        return f"an object from module {short(module, 80)}"
    cls = entry.get("class_name")
    if not isinstance(cls, str):
        return None
    registered = entry.get("registered_name")
    if cls in _CODE_CLASSES:
        return _label(entry, cls)
    if ">" in cls or (registered is not None and registered != cls):
        return f"custom object {short(registered if isinstance(registered, str) else cls, 80)}"
    if cls == "function":
        name = entry.get("config")
        if not (isinstance(name, str) and _IDENTIFIER.match(name) and isinstance(module, str)
                and "activations" in module.split(".")):
            return f"a function reference {short(module, 60)}.{short(name, 60)}"
    if cls in _TF_OP_CLASSES:
        config = entry.get("config")
        fn = config.get("function") if isinstance(config, dict) else None
        if not isinstance(fn, str) or _TF_OP_DENIED & set(fn.split(".")):
            return f"{cls} calling tf.{short(fn, 60)}"
    return None


def unsafe_objects(config) -> list[str]:
    """What in a model config would run code or import modules: Lambda layers and other code
    carriers, serialized Python functions, objects from modules other than Keras, classes
    registered outside Keras. Walks every nested value (iterative)."""
    found: set[str] = set()
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
            problem = _entry_problem(value)
            if problem:
                found.add(problem)
    return sorted(found)


# --------------------------------------------------------------------------------------------
# Loading


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
    """`path` is the private copy, named after its one format: both Keras' dispatch on the
    extension picks the loader of the format that was inspected."""
    if tf_keras:
        import tf_keras as keras

        return keras.models.load_model(path, compile=False, safe_mode=not unsafe_load)
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=not unsafe_load)


def load_model_file(path: str, unsafe_load: bool = False) -> tuple[object, list[str]]:
    """Load a model file (Keras safe mode unless unsafe_load): (model, notes on how it was
    loaded). Raises ModelFileError. An HDF5 file saved by Keras 2 that Keras 3 cannot load
    is loaded with tf_keras when it is installed."""
    with private_copy(path) as (copy, kind):
        config = read_config(copy, kind)
        if not unsafe_load:
            unsafe = unsafe_objects(config)
            if unsafe:
                raise ModelFileError(
                    f"refusing to load: the model contains code ({short('; '.join(unsafe))});"
                    " nothing from the file was run. Pass --unsafe-load to load it, only if "
                    "you trust it")
        return _load_inspected(copy, kind, unsafe_load)


def _load_inspected(copy: str, kind: str, unsafe_load: bool) -> tuple[object, list[str]]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    legacy = _use_tf_keras(kind)
    try:
        return _load(copy, legacy, unsafe_load), []
    except Exception as exc:  # noqa: BLE001 - Keras raises anything on a bad file
        saved_with = h5_saved_with(copy) if kind == "h5" else None
        if legacy or not (saved_with or "").startswith("2.") or not _tf_keras_installed():
            raise ModelFileError(f"cannot load model: {_first_line(exc)}") from None
        first = exc
    try:
        model = _load(copy, True, unsafe_load)
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(f"cannot load model: {_first_line(first)} (tf_keras: "
                             f"{_first_line(exc)})") from None
    return model, [f"saved by Keras {saved_with}; Keras 3 cannot load it "
                   f"({_first_line(first)}), so it was loaded and analyzed with tf_keras, "
                   "as tf.keras 2 runs it"]


def h5_saved_with(path: str) -> str | None:
    """The Keras version an HDF5 model file was saved by (its `keras_version` attribute)."""
    if Path(path).is_dir():
        return None
    try:
        if "h5" not in content_formats(path):
            return None
        import h5py

        with h5py.File(path, "r") as f:
            value = f.attrs.get("keras_version")
    except (OSError, ValueError, ImportError, TypeError):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return short(value, 40) if isinstance(value, str) else None
