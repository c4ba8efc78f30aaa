"""What the paired statistics and the flipped-images gallery cost per configuration (issue 10's budget).

    python benchmarks/statistics_cost.py [--config configuration.json] [--flip 0.05]

On the configuration's evaluation set (its real image paths and labels; no model is run): four models'
predictions are made up with a share of images flipped against Keras, then the results document's
statistics (intervals, paired comparisons, decisions, flipped lists, the per-image record) and the HTML
gallery of 24 thumbnails are timed, best of 5. Compare with a warm run of the same configuration.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsq.statistics import per_image  # noqa: E402
from vsq.pipeline.evaluate import ModelEvaluation  # noqa: E402
from vsq.reporting.gallery import gallery_html  # noqa: E402
from vsq.pipeline.job import prepare  # noqa: E402
from vsq.core.reference import KEYS  # noqa: E402
from vsq.pipeline.document import _add_statistics, _model  # noqa: E402


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configuration.json")
    parser.add_argument("--flip", type=float, default=0.05, help="share of images each model flips against Keras")
    args = parser.parse_args()
    job = prepare(args.config)
    labels = np.asarray(job.evaluation_set.labels)
    classes, rng = job.evaluation_set.num_classes, np.random.default_rng(0)

    def made_up(name: str, flip: float) -> ModelEvaluation:
        predictions = np.where(rng.random(len(labels)) < flip, rng.integers(0, classes, len(labels)), labels)
        return ModelEvaluation(name, predictions, predictions == labels, labels, classes, 0.0,
                               top_scores=rng.random(len(labels)).astype(np.float32))

    evaluations = {key: made_up(key, 0.0 if key == "keras" else args.flip) for key in KEYS}
    names, paths = job.evaluation_set.class_names, job.evaluation_set.paths
    models = {key: _model(result, evaluations["keras"], names, None) for key, result in evaluations.items()}

    def statistics():
        _add_statistics(models, evaluations, job, paths)
        per_image.record(per_image.image_ids(paths, job.config.evaluate_image_dir),
                         {key: result.correct for key, result in evaluations.items()})

    seconds = best_of(5, statistics)
    flipped = len(models["tflite_quantized"]["flipped"])
    gallery = best_of(5, lambda: gallery_html(job.name, {"models": models}, [job.config.evaluate_image_dir]))
    print(f"{job.name}: {len(paths)} images, {flipped} flipped by model_quantized.tflite")
    print(f"statistics, flipped lists, per-image record: {seconds * 1000:.1f} ms")
    print(f"gallery of {min(24, flipped)} thumbnails: {gallery * 1000:.1f} ms")


if __name__ == "__main__":
    main()
