"""Classification's evaluation of one model: the class it predicts per image, Top-1/Top-5 hits, its top scores,
and the first images' full scores (for parity); accumulated chunk by chunk, stored in the cache."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vsq.statistics import metrics, parity

STORED = ("evaluation.npz", "evaluation.json")  # the files of an evaluation's cache entry


@dataclass
class ModelEvaluation:
    """What one model did on the evaluation set."""

    name: str
    predictions: np.ndarray  # top-1 class id per image
    top5_hits: np.ndarray  # bool per image
    labels: np.ndarray
    num_classes: int
    seconds: float  # inference time only, decode excluded
    top_scores: np.ndarray | None = None  # float32 per image: the model's score of its predicted class
    # float32 (images, classes): the scores of the first images (vsq.statistics.parity.images_kept), for parity
    scores: np.ndarray | None = None
    skipped: tuple = ()  # (path, reason) of images that could not be decoded and were left out
    modes: dict = field(default_factory=dict)  # Pillow mode of the files -> count (non-RGB were converted)

    @property
    def images_used(self) -> int:
        return len(self.labels)

    @property
    def correct(self) -> np.ndarray:
        """bool per image: Top-1 right."""
        return self.predictions == self.labels

    @property
    def top1(self) -> float:
        return metrics.accuracy(self.correct)

    @property
    def top5(self) -> float | None:
        """None with 5 classes or fewer: every image is then in its top 5, so Top-5 does not apply."""
        return None if self.num_classes <= 5 else metrics.accuracy(self.top5_hits)

    @property
    def per_class_top1(self) -> list[float | None]:
        return metrics.per_class_accuracy(self.predictions, self.labels, self.num_classes)

    @property
    def confusion(self) -> np.ndarray:
        return metrics.confusion_matrix(self.predictions, self.labels, self.num_classes)


@dataclass
class Running:
    """A model's evaluation while the chunks come in (vsq.tasks.base.Accumulator)."""

    name: str
    labels: np.ndarray  # class id of every evaluation image, in the evaluation set's order
    num_classes: int
    indices: list = field(default_factory=list)
    predictions: list = field(default_factory=list)
    top5: list = field(default_factory=list)
    top_scores: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    kept: int = 0  # images whose scores are kept

    def add(self, outputs, indices: np.ndarray) -> None:
        scores = np.asarray(outputs)
        self.indices.append(indices)
        self.predictions.append(np.argmax(scores, axis=1))
        self.top_scores.append(np.max(scores, axis=1).astype(np.float32))
        self.top5.append(metrics.top_k_hits(scores, self.labels[indices], 5))
        room = parity.images_kept(self.num_classes) - self.kept
        if room > 0:
            self.scores.append(scores[:room].astype(np.float32))
            self.kept += len(self.scores[-1])

    def finish(self, seconds: float, skipped: tuple, modes: dict) -> ModelEvaluation:
        return ModelEvaluation(
            name=self.name, predictions=np.concatenate(self.predictions), top5_hits=np.concatenate(self.top5),
            top_scores=np.concatenate(self.top_scores),
            scores=np.concatenate(self.scores) if self.scores else None,
            labels=self.labels[np.concatenate(self.indices)], num_classes=self.num_classes, seconds=seconds,
            skipped=skipped, modes=modes)


def save(result: ModelEvaluation, folder: Path) -> None:
    """Store an evaluation in a folder (a cache entry being built)."""
    np.savez(folder / "evaluation.npz", predictions=result.predictions, top5_hits=result.top5_hits,
             top_scores=result.top_scores, **({} if result.scores is None else {"scores": result.scores}),
             labels=result.labels)
    meta = {"name": result.name, "num_classes": result.num_classes, "seconds": result.seconds,
            "skipped": [list(item) for item in result.skipped], "modes": result.modes}
    (folder / "evaluation.json").write_text(json.dumps(meta))


def load(folder: Path) -> ModelEvaluation:
    """Read an evaluation stored by save()."""
    meta = json.loads((folder / "evaluation.json").read_text())
    with np.load(folder / "evaluation.npz") as arrays:
        return ModelEvaluation(name=meta["name"], predictions=arrays["predictions"], top5_hits=arrays["top5_hits"],
                               top_scores=arrays["top_scores"],
                               scores=arrays["scores"] if "scores" in arrays.files else None,
                               labels=arrays["labels"], num_classes=meta["num_classes"], seconds=meta["seconds"],
                               skipped=tuple(tuple(item) for item in meta["skipped"]), modes=meta["modes"])
