"""Evaluate several models on the same images: each image is decoded once, in chunks.

The chunks keep memory bounded for large folders; the next chunk is decoded in background
threads (Pillow releases the GIL) while the models run on the current one.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from vsq import metrics
from vsq.config import Config
from vsq.datasets import EvaluationSet, decode, normalize

CHUNK_IMAGES = 128


@dataclass
class ModelEvaluation:
    """What one model did on the evaluation set."""

    name: str
    predictions: np.ndarray  # top-1 class id per image
    top5_hits: np.ndarray  # bool per image
    labels: np.ndarray
    num_classes: int
    seconds: float  # inference time only, decode excluded

    @property
    def top1(self) -> float:
        return metrics.accuracy(self.predictions == self.labels)

    @property
    def top5(self) -> float:
        return metrics.accuracy(self.top5_hits)

    @property
    def per_class_top1(self) -> list[float | None]:
        return metrics.per_class_accuracy(self.predictions, self.labels, self.num_classes)

    @property
    def confusion(self) -> np.ndarray:
        return metrics.confusion_matrix(self.predictions, self.labels, self.num_classes)


@dataclass
class _Running:
    predictions: list = field(default_factory=list)
    top5: list = field(default_factory=list)
    seconds: float = 0.0


def decoded_chunks(config: Config, evaluation: EvaluationSet, chunk: int = CHUNK_IMAGES) -> Iterator[np.ndarray]:
    """Preprocessed float32 chunks of the evaluation images, in order; decodes one chunk ahead."""
    size, resize = config.input_tensor_size, config.preprocessing.resize
    mean_std = config.preprocessing.mean_std
    paths = evaluation.paths
    starts = range(0, len(paths), chunk)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        def submit(start):
            return [pool.submit(decode, path, size, resize) for path in paths[start:start + chunk]]

        pending = submit(starts[0]) if starts else []
        for i, _ in enumerate(starts):
            current = pending
            pending = submit(starts[i + 1]) if i + 1 < len(starts) else []
            yield normalize(np.stack([future.result() for future in current]), mean_std)


def evaluate_models(
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]],
    config: Config,
    evaluation: EvaluationSet,
    progress=None,
) -> dict[str, ModelEvaluation]:
    """Run every predictor (images -> scores) on every evaluation image; one decode per image."""
    labels = np.asarray(evaluation.labels)
    running = {name: _Running() for name in predictors}
    done = 0
    for images in decoded_chunks(config, evaluation):
        chunk_labels = labels[done:done + len(images)]
        for name, predict in predictors.items():
            start = time.perf_counter()
            scores = np.asarray(predict(images))
            running[name].seconds += time.perf_counter() - start
            running[name].predictions.append(np.argmax(scores, axis=1))
            running[name].top5.append(metrics.top_k_hits(scores, chunk_labels, 5))
        done += len(images)
        if progress is not None:
            progress.update(len(images))
    return {
        name: ModelEvaluation(
            name=name,
            predictions=np.concatenate(state.predictions),
            top5_hits=np.concatenate(state.top5),
            labels=labels,
            num_classes=evaluation.num_classes,
            seconds=state.seconds,
        )
        for name, state in running.items()
    }


def save(result: ModelEvaluation, folder: Path) -> None:
    """Store an evaluation in a folder (a cache entry being built)."""
    np.savez(folder / "evaluation.npz", predictions=result.predictions, top5_hits=result.top5_hits,
             labels=result.labels)
    meta = {"name": result.name, "num_classes": result.num_classes, "seconds": result.seconds}
    (folder / "evaluation.json").write_text(json.dumps(meta))


def load(folder: Path) -> ModelEvaluation:
    """Read an evaluation stored by save()."""
    meta = json.loads((folder / "evaluation.json").read_text())
    with np.load(folder / "evaluation.npz") as arrays:
        return ModelEvaluation(name=meta["name"], predictions=arrays["predictions"], top5_hits=arrays["top5_hits"],
                               labels=arrays["labels"], num_classes=meta["num_classes"], seconds=meta["seconds"])
