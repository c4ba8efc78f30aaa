"""How close the harness's evaluation comes to the interpreter's own cost, on the same images.

    python benchmarks/evaluation_speed.py [--model example|mobilenet] [--images 500] [--work DIR]

Three ways to get Top-1 predictions for the same N images:
  harness   vsq.pipeline.evaluate.evaluate_models: decode once (threads, one chunk ahead), batched Keras,
            TFLite with the configured runtime;
  bare      only interpreter.invoke() over arrays decoded beforehand (the physical limit);
  spec way  what the spec's notebook does: one image at a time, decode, resize, invoke, and
            Keras model.predict() per image.
It prints seconds (best of 3; the spec way once) and ratios for the quantized model alone and for
all three models.

`--model example` uses the bundled example (64x64 CNN); `--model mobilenet` builds MobileNetV2
(alpha 0.35, 96x96, random weights: speed does not depend on them) and quantizes it with MCT once
into --work. The N images are the example's 500 JPEGs, repeated if N is larger.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vsq.configuration.config import load_config  # noqa: E402
from vsq.configuration.datasets import EvaluationSet, calibration_indices, scan_calibration  # noqa: E402
from vsq.configuration.preprocessing import Preprocessing, normalize  # noqa: E402
from vsq.pipeline.evaluate import evaluate_models  # noqa: E402
from vsq.runtimes.tflite import TFLiteClassifier, make_interpreter  # noqa: E402


def example_images(count: int) -> list[Path]:
    root = REPO / "examples" / "shapes"
    found = sorted(root.glob("images/*/*.jpg")) + sorted(root.glob("evaluate/images/*/*.JPEG"))
    return [found[i % len(found)] for i in range(count)]


def prepare_models(kind: str, work: Path, config):
    """(keras model, model.tflite, model_quantized.tflite, input size) for the chosen model."""
    import tensorflow as tf

    from vsq.frameworks.keras.models import export_float_tflite
    from vsq.configuration.config import Variant
    from vsq.frameworks.keras.recipes import build_variant

    work.mkdir(parents=True, exist_ok=True)
    if kind == "example":
        keras_path, size = REPO / "examples" / "shapes" / "model.h5", 64
    else:
        keras_path, size = work / "mobilenet.h5", 96
        if not keras_path.exists():
            tf.keras.utils.set_random_seed(0)
            tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=4).save(
                keras_path)
    model = tf.keras.models.load_model(keras_path, compile=False)
    float_path, quant_path = work / f"{kind}.tflite", work / f"{kind}_quantized.tflite"
    if not float_path.exists():
        export_float_tflite(model, float_path)
    if not quant_path.exists():
        paths = scan_calibration(config)
        batches = calibration_indices(len(paths), 32, 4, seed=0)
        mean_std = config.preprocessing.mean_std

        def data():
            for batch in batches:
                yield normalize(np.stack([Preprocessing(size, "bilinear").decode(paths[i]).pixels for i in batch]), mean_std)

        build_variant(Variant("quantized", "mct_ptq", target_platform="imx500"), model, data, config, quant_path)
    return model, float_path, quant_path, size


def timed(fn, repeat: int = 3):
    """Best of `repeat` wall times, in seconds (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("example", "mobilenet"), default="example")
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--work", type=Path, default=Path("/tmp/vsq-bench"))
    args = parser.parse_args()

    base = load_config(REPO / "configuration.json")
    model, float_path, quant_path, size = prepare_models(args.model, args.work, base)
    config = dataclasses.replace(base, input_tensor_size=size)
    runtime = config.tflite_runtime
    paths = example_images(args.images)
    evaluation = EvaluationSet(class_names=("a", "b", "c", "d"), paths=tuple(paths), labels=(0,) * len(paths))
    mean_std = config.preprocessing.mean_std

    def harness(names):
        predictors = {"keras": model.predict_on_batch,
                      "tflite": TFLiteClassifier(float_path, runtime, runtime.batch_size).predict,
                      "tflite_quantized": TFLiteClassifier(quant_path, runtime, runtime.batch_size).predict}
        evaluate_models({name: predictors[name] for name in names}, config, evaluation)

    decoded = normalize(np.stack([Preprocessing(size, "bilinear").decode(p).pixels for p in paths]), mean_std)

    def bare(path):
        interpreter = make_interpreter(path, runtime)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]
        out = interpreter.get_output_details()[0]["index"]
        for image in decoded:
            interpreter.set_tensor(index, image[None])
            interpreter.invoke()
            interpreter.get_tensor(out)

    def spec_way(which):
        from PIL import Image

        def load(p):
            image = Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR)
            return normalize(np.asarray(image), mean_std)[None]

        for path in ([float_path, quant_path] if which == "all" else [quant_path]):
            interpreter = make_interpreter(path, runtime)
            interpreter.allocate_tensors()
            index = interpreter.get_input_details()[0]["index"]
            for p in paths:
                interpreter.set_tensor(index, load(p))
                interpreter.invoke()
        if which == "all":
            for p in paths:
                model.predict(load(p), verbose=0)

    bare(quant_path)  # warm-up: kernels, caches
    figures = {
        "bare_quantized_s": timed(lambda: bare(quant_path)),
        "harness_quantized_s": timed(lambda: harness(["tflite_quantized"])),
        "harness_all_s": timed(lambda: harness(["keras", "tflite", "tflite_quantized"])),
        "bare_all_tflite_s": timed(lambda: (bare(float_path), bare(quant_path))),
        "spec_way_all_s": timed(lambda: spec_way("all"), repeat=1),  # tens of seconds: once
    }
    figures["ratio_harness_to_bare_quantized"] = figures["harness_quantized_s"] / figures["bare_quantized_s"]
    figures["speedup_harness_vs_spec_way_all"] = figures["spec_way_all_s"] / figures["harness_all_s"]
    print(json.dumps({"model": args.model, "images": len(paths), "cores": os.cpu_count(),
                      "runtime": vars(runtime), **{k: round(v, 3) for k, v in figures.items()}}, indent=2))


if __name__ == "__main__":
    main()
