"""Refuse Keras models that would run arbitrary Python code when loaded, unless the user opts in.

A Lambda layer in an .h5 or .keras file carries Python bytecode that Keras executes while
loading. vsq reads the model's JSON configuration (without TensorFlow) and refuses such files
unless the configuration sets "allow_unsafe_model_code": true. SavedModel directories restore
traced graphs, not Python code, and are not affected.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

UNSAFE_CLASSES = ("Lambda",)


def model_json(path: Path) -> dict | None:
    """The Keras model configuration stored in an .h5 or .keras file; None for a SavedModel or unknown file."""
    path = Path(path)
    if path.is_dir():
        return None
    if zipfile.is_zipfile(path):  # .keras: a zip with config.json
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                return None
            return json.loads(archive.read("config.json"))
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
    except OSError:
        return None  # not HDF5: Keras will say what it is when it tries
    if raw is None:
        return None
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def unsafe_layers(path: Path) -> list[str]:
    """Names of the layers (at any nesting depth) whose loading runs stored Python code."""
    found: list[str] = []

    def visit(node):
        if isinstance(node, dict):
            if node.get("class_name") in UNSAFE_CLASSES:
                config = node.get("config") or {}
                found.append(f"{config.get('name', '?')} ({node['class_name']})")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(model_json(path))
    return found
