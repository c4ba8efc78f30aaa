"""Tiny generated projects for the tests: colour-coded images and a hand-set Keras classifier.

Images of class "red" are noisy and mostly red, and so on; the model averages the colour and
picks the strongest channel, so its Top-1 is exact and survives quantization. No training needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASSES = ("blue", "green", "red")  # ids 0, 1, 2 in labels.json
CHANNEL = {"red": 0, "green": 1, "blue": 2}
SIZE = 16


def write_image(path: Path, colour: str, rng: np.random.Generator, side: int = 20) -> Path:
    from PIL import Image

    pixels = rng.integers(0, 80, size=(side, side, 3))
    pixels[..., CHANNEL[colour]] += 150
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path)
    return path


def write_data(root: Path, per_class: int = 12, seed: int = 0, mislabelled: int = 0) -> None:
    """images/<class>/*.jpg for calibration, evaluate/images/<class>/*.JPEG and evaluate/labels.json.

    `mislabelled` images of the first class are drawn in the colour of the second, so that no model
    can reach Top-1 1.0 on the evaluation set.
    """
    rng = np.random.default_rng(seed)
    for cls in CLASSES:
        for i in range(per_class):
            write_image(root / "images" / cls / f"{cls}_{i}.jpg", cls, rng)
            colour = CLASSES[1] if cls == CLASSES[0] and i < mislabelled else cls
            write_image(root / "evaluate" / "images" / cls / f"{cls}_{i}.JPEG", colour, rng)
    (root / "evaluate" / "labels.json").write_text(json.dumps({cls: i for i, cls in enumerate(CLASSES)}))


def config_dict(**overrides) -> dict:
    """A spec configuration for a project made by write_data (relative paths)."""
    data = {
        "source_keras_model": "model.h5",
        "dataset_image_dir": "images",
        "batch_size": 8,
        "input_tensor_size": SIZE,
        "iteration_count": 2,
        "output_dir": "output",
        "evaluate_image_dir": "evaluate/images",
        "evaluate_image_extension": "JPEG",
        "evaluate_label_file": "evaluate/labels.json",
        "evaluate_result_dir": "results",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def write_config(root: Path, name: str = "configuration.json", **overrides) -> Path:
    return write_config_dict(root, config_dict(**overrides), name)


def write_config_dict(root: Path, data: dict, name: str = "configuration.json") -> Path:
    path = root / name
    path.write_text(json.dumps(data, indent=2))
    return path


def colour_head(classes: int = len(CLASSES)) -> np.ndarray:
    """(3, classes): the logit of each class from the mean R, G, B of the input (its own colour's mean)."""
    head = np.zeros((3, classes), np.float32)
    for cls, name in enumerate(CLASSES[:classes]):
        head[CHANNEL[name], cls] = 1.0
    return head


def write_model(path: Path, size: int = SIZE, classes: int = len(CLASSES), head: np.ndarray | None = None,
                bias: np.ndarray | None = None, normalise_input: bool = False) -> Path:
    """Mean colour -> class, through two wide linear layers that carry the three colour means on
    their first units (the other units are small noise). The wide layers make the float file big
    enough that the INT8 export is visibly smaller, as with real models.

    head (3, classes) and bias (classes,): the logits from the three means (default: colour_head(), no bias), to
    make models trained on another preprocessing or labels.json; normalise_input: a first layer that standardises
    each image (LayerNormalization over all its pixels), so that any normalization gives the model the same input."""
    import tensorflow as tf

    hidden = 256
    head = colour_head(classes) if head is None else head
    inputs = tf.keras.Input((size, size, 3))
    x = inputs
    if normalise_input:
        x = tf.keras.layers.LayerNormalization(axis=[1, 2, 3], center=False, scale=False)(x)
    first = tf.keras.layers.Conv2D(3, 1, use_bias=False)
    x = first(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    # Linear on purpose: MCT 2.6.1 exports a Dense with a fused ReLU after pooling as float, not INT8.
    x = tf.keras.layers.Dense(hidden)(x)
    x = tf.keras.layers.Dense(hidden)(x)
    outputs = tf.keras.layers.Dense(classes, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    rng = np.random.default_rng(1)
    first.set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    w1 = rng.normal(0, 0.1, size=(3, hidden)).astype(np.float32)
    w1[:, :3] = np.eye(3)  # units 0..2 copy the mean R, G, B
    w2 = rng.normal(0, 1e-3, size=(hidden, hidden)).astype(np.float32) + np.eye(hidden, dtype=np.float32)
    # Small noise rather than zeros: an all-zero weight channel makes the INT8 export fall back to float.
    w3 = rng.normal(0, 1e-3, size=(hidden, classes)).astype(np.float32)
    w3[:3] = np.where(head != 0, 0.1 * head, w3[:3])  # inputs are in [0, 1]; scores stay well apart
    biases = (np.zeros(hidden, np.float32), np.zeros(hidden, np.float32),
              np.zeros(classes, np.float32) if bias is None else 0.1 * np.asarray(bias, np.float32))
    for layer, weights, offset in zip(model.layers[-3:], (w1, w2, w3), biases):
        layer.set_weights([weights, offset])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path
