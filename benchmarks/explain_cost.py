"""Cost of the per-layer explanation (MCT XQuant, vsq.frameworks.keras.xquant) against a cold MCT quantization.

    python benchmarks/explain_cost.py --model example     # configuration.json: examples/shapes, 6 x 50 images
    python benchmarks/explain_cost.py --model mobilenet   # MobileNetV2 1.0, 224x224, random weights, 10 x 50
    ... [--samples 32:64,64:128] [--work DIR]

Cold quantization is what the harness does on a cache miss: MCT PTQ, then the INT8 TFLite export and
the Keras export (model_quantized.tflite and .keras). The explanation is what it would add: load
model_quantized.keras, decode the validation sample, run XQuant. Each `R:V` sample runs XQuant on R
calibration images and V evaluation images (vsq.frameworks.keras.xquant's bounds). Prints seconds and the ratio to
the cold quantization (budget: 25 %). Runs once, single process: on a shared machine run it alone.

The example uses its real calibration and evaluation images with the configuration's preprocessing;
MobileNetV2 uses random images (the cost does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # MCT's and XQuant's own bars
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vsq.frameworks.keras import xquant  # noqa: E402
from vsq.core import layers  # noqa: E402
from vsq.frameworks.keras import quantize  # noqa: E402

BUDGET = 0.25


def example_data():
    """(float model, calibration batches, validation images) of the bundled example, as the harness decodes them."""
    import tensorflow as tf

    from vsq.data.calibration import decode_calibration
    from vsq.pipeline.job import prepare

    job = prepare(REPO / "configuration.json")
    calibration = decode_calibration(job)
    model = tf.keras.models.load_model(job.config.source_keras_model, compile=False)

    def validation(count: int) -> np.ndarray:
        paths = job.evaluation_set.paths
        chosen = [paths[i] for i in layers.spread_indices(len(paths), count)]
        return job.config.preprocessing.normalize(np.stack([job.config.preprocessing.decode(p).pixels for p in chosen]))

    return model, list(calibration.iterate()), validation


def mobilenet_data():
    import tensorflow as tf

    model = tf.keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None, classes=10)
    rng = np.random.default_rng(0)
    calibration = [rng.uniform(-1, 1, (50, 224, 224, 3)).astype(np.float32) for _ in range(10)]
    return model, calibration, lambda count: rng.uniform(-1, 1, (count, 224, 224, 3)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("example", "mobilenet"), default="example")
    parser.add_argument("--samples", default=f"{layers.MAX_REPRESENTATIVE_IMAGES}:{layers.MAX_VALIDATION_IMAGES}",
                        help="comma-separated calibration:validation image counts to time (default: vsq's bounds)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the exports and reports (default: temporary)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="explain_cost_"))
    work.mkdir(parents=True, exist_ok=True)

    model, calibration, validation = example_data() if args.model == "example" else mobilenet_data()
    images = sum(len(b) for b in calibration)
    print(f"{args.model}: {len(calibration)} x {len(calibration[0])} calibration images, input {model.input_shape[1:]}")

    started = time.perf_counter()
    quantized = quantize.ptq(model, lambda: ([b] for b in calibration), "imx500")
    ptq = time.perf_counter() - started
    started = time.perf_counter()
    quantize.export_int8_tflite(quantized, work / "model_quantized.tflite")
    keras_file = quantize.export_keras(quantized, work / "model_quantized.keras")
    export = time.perf_counter() - started
    cold = ptq + export
    print(f"cold quantization: {cold:.1f} s (PTQ {ptq:.1f} s, TFLite + Keras export {export:.1f} s)")

    import mct_quantizers

    for sample in args.samples.split(","):
        repr_images, val_images = (int(n) for n in sample.split(":"))
        started = time.perf_counter()
        reloaded = mct_quantizers.keras_load_quantized_model(str(keras_file))
        load = time.perf_counter() - started
        started = time.perf_counter()
        val = validation(val_images)
        decode = time.perf_counter() - started
        result = xquant.explain(model, reloaded, calibration, [val], work / f"xquant_{repr_images}_{val_images}",
                                 max_representative_images=min(repr_images, images), max_validation_images=val_images)
        total = load + decode + result.seconds
        worst = ", ".join(f"{layer.name} {layer.validation.sqnr_db:.1f} dB" for layer in result.worst(3))
        print(f"explanation {result.representative_images}:{result.validation_images} images: {total:.1f} s "
              f"= {100 * total / cold:.1f} % of cold (budget {100 * BUDGET:.0f} %) "
              f"[load .keras {load:.1f} s, validation sample {decode:.1f} s, XQuant {result.seconds:.1f} s]; "
              f"{len(result.layers)} layers, output {result.output_validation.sqnr_db:.1f} dB; worst: {worst}")
    print(f"files in {work}")


if __name__ == "__main__":
    main()
