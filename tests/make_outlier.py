"""A model that fails by default and passes with another recipe: the tiny colour classifier (tests/tiny.py) with a
layer whose activation has an outlier that MCT's default recipe cannot represent in 8 bits.

    python tests/make_outlier.py DIR

writes DIR/ with the tiny project's images, one white calibration image, outlier.h5 and outlier.json: a configuration
that calibrates on every calibration image (so the white one always sets the range: the default recipe fails on any
seed) and searches five candidates. Then `python -m vsq run DIR/outlier.json` prints the search's table. With
--imx500 it writes outlier-imx500.json as well: the sensor as a constraint, objective least_imx500_memory. The tests
import write_outlier_model (tests/test_calibrations.py, tests/test_search.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny  # noqa: E402

# What the search tries on it, as a user might write them (it tries them in its own order: smallest expected file
# first). z_threshold 3 leaves the white pixels (z about 6) out of MCT's statistics: the colours keep their range.
CANDIDATES = ["tf_float16", {"name": "noclip", "kind": "mct_ptq", "options": {"activation_error_method": "NOCLIPPING"}},
              {"name": "ztrim", "kind": "mct_ptq", "options": {"z_threshold": 3}},
              {"name": "ztrim_mp75", "kind": "mct_mixed_precision", "weights_memory_fraction": 0.75,
               "options": {"z_threshold": 3}}, "tf_dynamic_range"]


def write_outlier_model(path: Path) -> Path:
    """The tiny colour classifier with a fourth activation that only a white pixel turns on: ReLU(10,000 x (R + G + B)
    - 29,000), 1,000 on a white image and 0 on every coloured one (no channel of theirs passes 230 of 255 with the
    others under 80). MCT sets the first layer's activation range from the calibration images: a draw holding the
    white image stretches it to 1,000 and the colour means (at most 1) round to zero, so every class scores the
    same; a draw without it keeps the range near 1 and the model exact."""
    import tensorflow as tf

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    first = tf.keras.layers.Conv2D(4, 1, activation="relu")
    x = tf.keras.layers.GlobalAveragePooling2D()(first(inputs))
    head = tf.keras.layers.Dense(3, activation="softmax")
    model = tf.keras.Model(inputs, head(x))
    kernel = np.zeros((1, 1, 3, 4), np.float32)
    kernel[0, 0, :3, :3] = np.eye(3)
    kernel[0, 0, :, 3] = 10_000.0
    first.set_weights([kernel, np.array([0, 0, 0, -29_000], np.float32)])
    weights = np.full((4, 3), 1e-3, np.float32)
    weights[:3] = np.where(tiny.colour_head() != 0, 10.0, 1e-3)
    head.set_weights([weights, np.zeros(3, np.float32)])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def write_project(root: Path, imx500: bool = False) -> Path:
    """The tiny project, a white image among the calibration images, the model and outlier.json; its path. imx500:
    the sensor as a constraint too (outlier-imx500.json, objective least_imx500_memory; needs the converter)."""
    from PIL import Image

    tiny.write_data(root)
    Image.new("RGB", (20, 20), (255, 255, 255)).save(root / "images" / "red" / "white.jpg")
    write_outlier_model(root / "outlier.h5")
    calibration_images = sum(1 for _ in (root / "images").rglob("*.jpg"))
    data = tiny.config_dict(source_keras_model="outlier.h5", batch_size=calibration_images, iteration_count=1,
                            name="outlier", search={"candidates": CANDIDATES},
                            explanation={"when": "never"}, screen={"enabled": False})
    if imx500:
        data.update(name="outlier-imx500", imx500={}, evaluate_result_dir="results-imx500", output_dir="output-imx500")
        data["search"]["objective"] = "least_imx500_memory"
    config = root / ("outlier-imx500.json" if imx500 else "outlier.json")
    config.write_text(json.dumps(data, indent=2))
    return config


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--imx500"]):
        sys.exit("usage: python tests/make_outlier.py DIR [--imx500]")
    print(write_project(Path(sys.argv[1]).resolve(), imx500=sys.argv[2:] == ["--imx500"]))
