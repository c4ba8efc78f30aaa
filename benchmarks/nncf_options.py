"""NNCF's options for openvino_int8: its defaults against fast_bias_correction=False, on the same float IR, the
same calibration batches and the same decoded evaluation images, Top-1 of each against the Keras model's.

    python benchmarks/nncf_options.py example /tmp/vsq-nncf-example     # examples/runtimes.json (shapes, 64x64)
    python benchmarks/nncf_options.py digits /tmp/vsq-nncf-digits       # a small CNN trained here on digits

`digits` writes scikit-learn's handwritten digits (8x8, upscaled to 32x32 RGB PNGs: 300 calibration images,
500 evaluation images that the model never saw), trains a small CNN on the rest (seeded, ~20 s) and runs
the same comparison. Prints one JSON line per model: Top-1 of Keras, of each NNCF setting, and seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SETTINGS = {"defaults": {}, "fast_bias_correction=False": {"fast_bias_correction": False}}


def example_config(work: Path) -> Path:
    data = json.loads((REPO / "examples" / "runtimes.json").read_text())
    for key in ("source_keras_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file"):
        data[key] = str((REPO / "examples" / data[key]).resolve())
    data.update(output_dir=str(work / "output"), evaluate_result_dir=str(work / "results"), variants=[])
    work.mkdir(parents=True, exist_ok=True)
    (work / "example.json").write_text(json.dumps(data))
    return work / "example.json"


def digits_config(work: Path) -> Path:
    import tensorflow as tf
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(digits.target))
    pictures = (digits.images / 16.0 * 255).astype(np.uint8)

    def rgb(i):
        return np.repeat(np.asarray(Image.fromarray(pictures[i]).resize((32, 32), Image.BILINEAR))[..., None], 3, -1)

    calibration, evaluation, train = order[:300], order[300:800], order[800:]
    for split, indices, ext in (("images", calibration, "png"), ("evaluate/images", evaluation, "png")):
        for i in indices:
            folder = work / split / str(digits.target[i])
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb(i)).save(folder / f"{i}.{ext}")
    (work / "evaluate" / "labels.json").write_text(json.dumps({str(d): d for d in range(10)}))
    tf.keras.utils.set_random_seed(0)
    x = np.stack([rgb(i) for i in train]).astype(np.float32) / 255.0
    model = tf.keras.Sequential([
        tf.keras.Input((32, 32, 3)),
        tf.keras.layers.Conv2D(16, 3, padding="same"), tf.keras.layers.BatchNormalization(momentum=0.9),
        tf.keras.layers.ReLU(), tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(32, 3, padding="same"), tf.keras.layers.BatchNormalization(momentum=0.9),
        tf.keras.layers.ReLU(), tf.keras.layers.GlobalAveragePooling2D(),
        tf.keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, digits.target[train], epochs=8, batch_size=32, verbose=0)
    model.save(work / "model.h5")
    config = {"source_keras_model": "model.h5", "dataset_image_dir": "images", "batch_size": 50,
              "input_tensor_size": 32, "iteration_count": 6, "output_dir": "output",
              "evaluate_image_dir": "evaluate/images", "evaluate_image_extension": "png",
              "evaluate_label_file": "evaluate/labels.json", "evaluate_result_dir": "results", "name": "digits",
              "preprocessing": {"normalization": "[0,1]"}}
    (work / "digits.json").write_text(json.dumps(config))
    return work / "digits.json"


def compare(config_path: Path, work: Path) -> dict:
    import nncf

    from vsq.pipeline.job import prepare
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.framework import KERAS
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.frameworks.keras.openvino_export import _convert, _save
    from vsq.pipeline.evaluate import decoded_chunks
    from vsq.runtimes.telemetry import telemetry_off

    job = prepare(config_path)
    config, model = job.config, load_keras_model(job.config)
    batches, count = decode_calibration(job).iterate, job.config.iteration_count
    images = np.concatenate([chunk.images for chunk in decoded_chunks(config, job.evaluation_set)])
    labels = np.asarray(job.evaluation_set.labels)
    top1 = {"keras": float((model.predict(images, verbose=0).argmax(1) == labels).mean())}
    seconds = {}

    class Batches:
        def __iter__(self):
            return iter(batches())

        def __len__(self):
            return count

    converted = _convert(model)
    for name, options in SETTINGS.items():
        started = time.perf_counter()
        with telemetry_off():
            nncf.set_log_level(logging.ERROR)
            quantized = nncf.quantize(converted, nncf.Dataset(Batches()), subset_size=count, **options)
        seconds[name] = round(time.perf_counter() - started, 1)
        path = _save(quantized, work / f"nncf_{len(seconds)}.xml")
        predict = KERAS.file_predictor(path, config, instances=1)
        top1[name] = float((np.asarray(predict(images)).argmax(1) == labels).mean())
    return {"model": config.name, "images": len(labels), "top1": top1, "quantize_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("example", "digits"))
    parser.add_argument("work", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    config = example_config(args.work) if args.which == "example" else digits_config(args.work)
    print(json.dumps(compare(config, args.work)))


if __name__ == "__main__":
    main()
