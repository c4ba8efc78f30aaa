"""`vsq init IMAGES_DIR [--model FILE]`: a first labels.json and configuration.json from what vsq can read.

labels.json numbers the class folders of IMAGES_DIR in sorted order (the order Keras' and PyTorch's folder
readers give them ids); configuration.json holds every required key, the input size read from the model's own
configuration when it has one (Keras .h5/.keras/SavedModel, read as data: nothing of the model runs). Nothing
is overwritten without --force, and nothing is written when any check fails.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from vsq.errors import VsqError

DEFAULT_SIZE = 224  # when the model does not say (PyTorch weights, no model given): the spec's default
MAX_BATCH, MAX_ITERATIONS = 50, 10  # the spec's defaults, lowered to what a small folder holds
KERAS_SUFFIXES = (".h5", ".hdf5", ".keras")
PYTORCH_SUFFIXES = (".pt", ".pth")


class InitError(VsqError):
    """A folder or model vsq init cannot start from; the message names it and the fix."""


def class_folders(images: Path) -> list[str]:
    if not images.is_dir():
        raise InitError(f"{images}: no such folder; give the folder that holds one sub-folder per class")
    names = sorted(p.name for p in images.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    if not names:
        raise InitError(f"{images}: holds no class folder; put each class's images in a sub-folder named after it "
                        "(images/cat/1.jpg, images/dog/2.jpg)")
    return names


def image_files(images: Path, classes: list[str]) -> list[Path]:
    return [path for name in classes for path in sorted((images / name).rglob("*"))
            if path.is_file() and not path.is_symlink() and not path.name.startswith(".")]


def common_extension(images: Path, files: list[Path]) -> str:
    counts = Counter(path.suffix for path in files if path.suffix)
    if not counts:
        raise InitError(f"{images}: its class folders hold no image file; add the evaluation images")
    return counts.most_common(1)[0][0].lstrip(".")


def model_input_size(model: Path) -> int | None:
    """The square input size a Keras model's stored configuration declares, else None (nothing is loaded)."""
    if model.suffix.lower() in PYTORCH_SUFFIXES:
        return None
    from vsq.frameworks.keras.safety import ModelFormatError, model_configs

    try:
        configs = model_configs(model)
    except ModelFormatError as error:
        raise InitError(f"{model}: {error}") from None
    shapes = [shape for config in configs for shape in _input_shapes(config)]
    sizes = {tuple(shape[1:3]) for shape in shapes if len(shape) == 4}
    if len(sizes) == 1:
        height, width = sizes.pop()
        if isinstance(height, int) and height == width:
            return height
    return None


def _input_shapes(node) -> list:
    """Every InputLayer's batch shape in a Keras model configuration (Keras 2: batch_input_shape; 3: batch_shape)."""
    found = []
    if isinstance(node, dict):
        if node.get("class_name") == "InputLayer" and isinstance(node.get("config"), dict):
            shape = node["config"].get("batch_input_shape") or node["config"].get("batch_shape")
            if isinstance(shape, list):
                found.append(shape)
        for value in node.values():
            found += _input_shapes(value)
    elif isinstance(node, list):
        for value in node:
            found += _input_shapes(value)
    return found


def _relative(path: Path, base: Path) -> str:
    """A path as configuration.json writes it: relative to the configuration's folder (where vsq resolves it)."""
    text = os.path.relpath(path.resolve(), base.resolve())
    return text if text.startswith("..") or os.path.isabs(text) else f"./{text}"


def configuration(images: Path, model: Path | None, calibration: Path, folder: Path) -> tuple[dict, dict, str]:
    """(configuration, labels, a note on what was guessed) for IMAGES_DIR."""
    classes = class_folders(images)
    files = image_files(images, classes)
    extension = common_extension(images, files)
    calibration_count = sum(1 for path in calibration.rglob("*") if path.suffix.lower() in
                            (".jpg", ".jpeg", ".png", ".bmp")) if calibration.is_dir() else 0
    if calibration_count == 0:
        raise InitError(f"{calibration}: holds no .jpg, .jpeg, .png or .bmp image to calibrate with; give "
                        "--calibration DIR")
    size = model_input_size(model) if model else None
    batch = min(MAX_BATCH, calibration_count)
    source = {"source_pytorch_model": _relative(model, folder)} if model and model.suffix.lower() in PYTORCH_SUFFIXES \
        else {"source_keras_model": _relative(model, folder) if model else "./model.h5"}
    config = {
        **source,
        "dataset_image_dir": _relative(calibration, folder),
        "batch_size": batch,
        "input_tensor_size": size or DEFAULT_SIZE,
        "iteration_count": max(1, min(MAX_ITERATIONS, calibration_count // batch)),
        "output_dir": "./output",
        "evaluate_image_dir": _relative(images, folder),
        "evaluate_image_extension": extension,
        "evaluate_label_file": "./labels.json",
        "evaluate_result_dir": "./evaluate/results",
    }
    notes = []
    if not model:
        notes.append("set source_keras_model (or source_pytorch_model) to your model file")
    elif "source_pytorch_model" in source:
        notes.append("add pytorch_architecture (the nn.Module the weights go into; see docs/pytorch.md)")
    if not size:
        notes.append(f"input_tensor_size is {DEFAULT_SIZE}: the model does not say; set your model's input size")
    return config, {name: i for i, name in enumerate(classes)}, "; ".join(notes)


def init(images: Path, model: Path | None = None, calibration: Path | None = None, folder: Path = Path("."),
         force: bool = False) -> tuple[list[Path], str]:
    """Write labels.json and configuration.json into folder; return their paths and what the user should still
    set (raises InitError)."""
    from vsq.util.atomic import write_json

    targets = [folder / "labels.json", folder / "configuration.json"]
    existing = [path for path in targets if path.exists() or path.is_symlink()]
    if existing and not force:
        raise InitError(f"{existing[0]} exists; vsq init does not overwrite it: give --force to replace it, or run "
                        "vsq init in another folder")
    if model is not None and not model.exists():
        raise InitError(f"{model}: no such model file; give the .h5, .keras, SavedModel folder or PyTorch weights")
    config, labels, notes = configuration(images, model, calibration or images, folder)
    for target, data in zip(targets, (labels, config)):
        write_json(target, data)
    return targets, notes
