"""Refuse Keras models that would run code of the file's choosing when loaded, unless the command line grants it.

Keras 2.15's load_model picks its loader by the path first: a name ending in .keras that is a zip archive is
the Keras v3 format (config.json in the archive); any other file is HDF5 (the model_config attribute); a folder
is a SavedModel (keras_metadata.pb, else the metadata in saved_model.pb: vsq.frameworks.keras.savedmodel_metadata).
vsq picks the same loader, checks that the content is that format and no other (a file two readers read
differently, such as an HDF5 file with a zip appended, is refused) and reads, without TensorFlow, the
configuration that loader will revive.

A layer runs code of the file's choosing when it is a Lambda (marshalled Python bytecode); a TFOpLambda or
SlicingOpLambda calling a TensorFlow function outside the pure tensor functions below (Keras resolves any
`tf.*` name, with arguments from the file: tf.io.write_file, tf.io.gfile.remove, tf.py_function, ...); a
ClassMethod, InstanceMethod or InstanceProperty (any method or attribute of any object); or any object whose
`module` is outside Keras (the .keras loader imports whatever module a configuration names), except the layers
in TRUSTED_LAYERS at their own module (edge-mdt-cl's SSDPostProcess, the IMX500's detection post-processing:
vsq's loaders put that class, and no other, in scope).
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Iterator

KERAS_SUFFIX = ".keras"  # Keras 2.15 tests str(path).endswith(".keras"), case-sensitive
CONFIG_FILE = "config.json"
MAX_CONFIG_BYTES = 256 << 20  # a model's configuration is kilobytes; more is a decompression bomb
MAX_DEPTH = 200  # levels of nesting in a configuration (a model inside a model adds three)
LAMBDA_CLASSES = ("Lambda",)
TF_OP_CLASSES = ("TFOpLambda", "SlicingOpLambda")  # call tf.<config.function>(...)
METHOD_CLASSES = ("ClassMethod", "InstanceMethod", "InstanceProperty")  # getattr(object, name)(...)
# TensorFlow functions (as TFOpLambda names them, without "tf.") that compute on tensors and do nothing else.
PURE_TF_NAMESPACES = ("math.", "nn.", "linalg.", "image.", "signal.", "bitwise.", "__operators__.")
PURE_TF_FUNCTIONS = frozenset("""
    abs add argmax argmin argsort boolean_mask broadcast_to cast clip_by_norm clip_by_value concat
    convert_to_tensor cumsum divide einsum ensure_shape exp expand_dims eye fill gather gather_nd identity
    linspace matmul maximum meshgrid minimum multiply norm one_hot ones ones_like pad pow range rank realdiv
    reduce_max reduce_mean reduce_min reduce_prod reduce_sum repeat reshape reverse roll round searchsorted
    sequence_mask shape sign size slice sort split sqrt square squeeze stack stop_gradient strided_slice
    subtract tensordot tile transpose truediv unstack where zeros zeros_like
""".split())

# Custom layer class name -> the module a .keras file must name for it (HDF5 files name none). Loaders resolve
# exactly these classes (vsq.frameworks.keras.models.layers_scope); tensor code only, arguments are numbers.
TRUSTED_LAYERS = {"SSDPostProcess": "edgemdt_cl.keras.object_detection.ssd_post_process"}


class ModelFormatError(ValueError):
    """The file is not the format its loader reads, or is two formats at once; the message says which."""


def loader(path: Path) -> str:
    """Which Keras loader reads `path` ("keras", "h5" or "savedmodel"), checked against its content."""
    path = Path(path)
    if path.is_dir():
        return "savedmodel"
    is_zip, is_hdf5 = zipfile.is_zipfile(path), _is_hdf5(path)
    if is_zip and is_hdf5:
        raise ModelFormatError("is both an HDF5 file and a zip archive, which two readers read differently; save the "
                               "model again with model.save()")
    if path.name.endswith(KERAS_SUFFIX):
        if is_zip:
            return "keras"
        raise ModelFormatError("is not a Keras zip archive" + (" (Keras would read it as HDF5)" if is_hdf5 else "") +
                               "; save the model with model.save('model.keras'), or name an HDF5 file .h5")
    if not is_hdf5:
        raise ModelFormatError("is not an HDF5 file (Keras reads every model file not named .keras as HDF5); give "
                               "an .h5 file, a .keras file or a SavedModel directory")
    return "h5"


def _is_hdf5(path: Path) -> bool:
    import h5py

    try:
        return bool(h5py.is_hdf5(str(path)))
    except (OSError, ValueError):
        return False


def model_configs(path: Path) -> list:
    """The JSON configurations the loader of `path` will revive (raises ModelFormatError)."""
    kind = loader(path)
    if kind == "keras":
        return _keras_zip_config(Path(path))
    if kind == "h5":
        return _h5_config(Path(path))
    from vsq.frameworks.keras.savedmodel_metadata import MetadataError, keras_configs

    _check_regular_files(Path(path))
    try:
        return keras_configs(Path(path))
    except (MetadataError, OSError) as error:
        raise ModelFormatError(f"has Keras metadata that cannot be read: {error}") from None


def _keras_zip_config(path: Path) -> list:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [info for info in archive.infolist() if info.filename == CONFIG_FILE]
            if len(entries) > 1:
                raise ModelFormatError(f"holds {CONFIG_FILE} twice; save the model again with model.save()")
            if not entries:
                return []
            if entries[0].file_size > MAX_CONFIG_BYTES:
                raise ModelFormatError(f"has a {CONFIG_FILE} of {entries[0].file_size:,} bytes; a model's "
                                       "configuration is far smaller")
            text = archive.read(entries[0])
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:
        raise ModelFormatError(f"cannot be read as a zip archive ({error})") from None
    return [_json(text, CONFIG_FILE)]


def _h5_config(path: Path) -> list:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
    except (OSError, ValueError) as error:
        raise ModelFormatError(f"cannot be read as HDF5 ({error})") from None
    if raw is None:
        return []
    return [_json(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw), "model_config")]


def _json(text, where: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ModelFormatError(f"has a {where} that is not JSON ({str(error)[:200]})") from None


def _check_regular_files(folder: Path) -> None:
    """A SavedModel folder holds folders and regular files only: a link or a device would be followed by the
    loader and by vsq's digest of the folder."""
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(parent) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise ModelFormatError(f"{path} is a symbolic link inside it; copy the real file there")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise ModelFormatError(f"{path} inside it is not a regular file; remove it")


def unsafe_layers(path: Path) -> list[str]:
    """The objects of the model (at any nesting depth) whose loading or calling runs code the file chose, each as
    "name (why)"; raises ModelFormatError for a file that is not what its loader reads."""
    found: list[str] = []
    for node in objects(model_configs(path)):
        reason = _unsafe(node)
        if reason and reason not in found:
            found.append(reason)
    return found


def objects(configs) -> Iterator[dict]:
    """Every JSON object of a configuration (model_configs' result), depth first, each before the values it holds;
    ModelFormatError, in one line, for one nested more than MAX_DEPTH levels (a loop: no RecursionError)."""
    pending = [(configs, 0)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ModelFormatError(f"has a configuration nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            yield node
            values = list(node.values())
        elif isinstance(node, list):
            values = node
        else:
            continue
        pending.extend((value, depth + 1) for value in reversed(values))


def _unsafe(node: dict) -> str | None:
    class_name, config = node.get("class_name"), node.get("config")
    name = config.get("name", "?") if isinstance(config, dict) else config if isinstance(config, str) else "?"
    module = node.get("module") if "class_name" in node else None  # a serialized object's, not a Lambda's own key
    if isinstance(module, str) and module != "keras" and not module.startswith("keras.") and not trusted_layer(node):
        return f"{name} (imports module {module})"
    if class_name in LAMBDA_CLASSES or class_name in METHOD_CLASSES:
        return f"{name} ({class_name})"
    if class_name in TF_OP_CLASSES:
        function = config.get("function") if isinstance(config, dict) else None
        if not pure_tf_function(function):
            return f"{name} ({class_name} calls tf.{str(function)[:80]})"
    return None


def pure_tf_function(name) -> bool:
    """Whether tf.<name> only computes on tensors (a TFOpLambda's function, as Keras stores it)."""
    return isinstance(name, str) and (name in PURE_TF_FUNCTIONS or (
        name.startswith(PURE_TF_NAMESPACES) and name.replace(".", "").replace("_", "").isalnum()))


def trusted_layer(node: dict) -> bool:
    """Whether a serialized object is one of TRUSTED_LAYERS, named by its own module (if any) and class."""
    class_name = node.get("class_name")
    return (class_name in TRUSTED_LAYERS and node.get("module") in (None, TRUSTED_LAYERS[class_name])
            and node.get("registered_name") in (None, class_name))
