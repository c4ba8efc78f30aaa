"""Peak memory of evaluating N images with the three example models (the engine streams in chunks).

    python benchmarks/evaluation_memory.py 500 && python benchmarks/evaluation_memory.py 5000

Evaluates the bundled example's Keras model, model.tflite and model_quantized.tflite (run the
example once first so that output/ holds them) on the example's 500 images, repeated to N, and
prints the process's peak resident memory (ru_maxrss) before and after.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.evaluation_speed import example_images  # noqa: E402
from vsq.configuration.config import load_config  # noqa: E402
from vsq.configuration.datasets import EvaluationSet  # noqa: E402
from vsq.pipeline.evaluate import evaluate_models  # noqa: E402
from vsq.runtimes.tflite import TFLiteClassifier  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import tensorflow as tf

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    config = load_config(REPO / "configuration.json")
    model = tf.keras.models.load_model(config.source_keras_model, compile=False)
    runtime = config.tflite_runtime
    predictors = {
        "keras": model.predict_on_batch,
        "tflite": TFLiteClassifier(config.output_dir / "model.tflite", runtime).predict,
        "tflite_quantized": TFLiteClassifier(config.output_dir / "model_quantized.tflite", runtime).predict,
    }
    paths = example_images(count)
    evaluation = EvaluationSet(class_names=("a", "b", "c", "d"), paths=tuple(paths), labels=(0,) * count)
    before = peak_mb()
    evaluate_models(predictors, config, evaluation)
    print(f"images={count} peak_rss_before_mb={before:.0f} peak_rss_after_mb={peak_mb():.0f}")


if __name__ == "__main__":
    main()
