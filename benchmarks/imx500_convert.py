"""What the IMX500 converter says about three models, and how long it takes, per mode.

    python benchmarks/imx500_convert.py [--models small shapes mobilenetv2] [--work-dir DIR]

Each model is quantized with vsq.frameworks.keras.quantize.ptq for imx500, exported with export_keras, then
converted twice: `--memory-report` only, and in full (packerOut.zip). Models:
- small: the 32x32 MobileNet-like classifier of tests/test_imx500.py, random weights and data;
- shapes: examples/shapes/model.h5 (64x64), calibrated on 6 batches of 50 of its images, [0,1];
- mobilenetv2: MobileNetV2 1.0 at 224x224, random weights, 10 classes, 3 random batches of 16.
The converter must be installed (bash scripts/setup_imx500.sh).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # MCT's progress bars would bury the table
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vsq.tools import imx500
from vsq.frameworks.keras import quantize  # noqa: E402
from vsq.configuration.datasets import natural_key  # noqa: E402
from vsq.configuration.preprocessing import Preprocessing  # noqa: E402

MODELS = ("small", "shapes", "mobilenetv2")


def random_batches(size: int, count: int, batch: int):
    rng = np.random.default_rng(0)
    return lambda: ([rng.random((batch, size, size, 3), dtype=np.float32)] for _ in range(count))


def small():
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = tf.keras.Input((32, 32, 3))
    x = layers.ReLU()(layers.Conv2D(16, 3, strides=2, padding="same")(inputs))
    x = layers.ReLU()(layers.DepthwiseConv2D(3, padding="same")(x))
    x = layers.ReLU()(layers.Conv2D(32, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, layers.Dense(10, activation="softmax")(x)), random_batches(32, 2, 4)


def shapes():
    import tensorflow as tf

    model = tf.keras.models.load_model(REPO / "examples/shapes/model.h5", compile=False)
    files = sorted((p for p in (REPO / "examples/shapes/images").rglob("*.jpg")), key=lambda p: natural_key(str(p)))
    order = np.random.default_rng(0).permutation(len(files))[:300]
    images = np.stack([Preprocessing(64, "bilinear").decode(files[i]).pixels for i in order]).astype(np.float32) / 255.0
    return model, lambda: ([batch] for batch in np.split(images, 6))


def mobilenetv2():
    import tensorflow as tf

    model = tf.keras.applications.MobileNetV2(weights=None, classes=10, input_shape=(224, 224, 3))
    return model, random_batches(224, 3, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--work-dir", type=Path, help="keep the exports, outputs and logs here (default: a "
                                                       "temporary folder, removed at the end)")
    args = parser.parse_args()

    converter = imx500.find_converter(None, REPO)
    problem = imx500.missing_requirements(converter)
    if problem:
        sys.exit(problem)
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work_dir or Path(temporary)
        print(f"converter {converter} ({imx500.converter_version(converter)}), work dir {work}")
        print(f"{'model':12s} {'params':>9s} {'ptq s':>6s} {'mode':14s} {'exit':>4s} {'fits':>5s} "
              f"{'usage MB':>8s} {'of MB':>6s} {'util %':>6s} {'input':>11s} {'convert s':>9s}")
        for name in args.models:
            model, batches = globals()[name]()
            start = time.perf_counter()
            keras_file = quantize.export_keras(quantize.ptq(model, batches, "imx500"), work / name / "model.keras")
            ptq_seconds = time.perf_counter() - start
            for memory_report_only in (True, False):
                mode = "memory-report" if memory_report_only else "full"
                try:
                    result = imx500.convert(converter, keras_file, work / name / mode, memory_report_only,
                                            work / name / f"{mode}.log")
                except imx500.Imx500Error as error:
                    print(f"{name:12s} {mode}: {error}")
                    continue
                shape = "x".join(map(str, result.input_shape)) if result.input_shape else "-"
                print(f"{name:12s} {model.count_params():9d} {ptq_seconds:6.1f} {mode:14s} {result.exit_code:4d} "
                      f"{str(result.fits):>5s} {result.memory_usage_bytes / 2**20:8.2f} "
                      f"{result.memory_available_bytes / 2**20:6.2f} {result.utilization_percent:6g} {shape:>11s} "
                      f"{result.seconds:9.1f}", flush=True)
                if result.error:
                    print(f"{'':12s} error: {result.error}")


if __name__ == "__main__":
    main()
