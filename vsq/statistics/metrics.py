"""Accuracy metrics as small pure functions. Fractions are 0..1, as the spec's results.json."""

from __future__ import annotations

import numpy as np


def top_k_hits(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per image: is the true label among the k highest scores? (k is capped at the class count)."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def accuracy(hits: np.ndarray) -> float:
    return float(np.mean(hits)) if len(hits) else 0.0


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> list[float | None]:
    """Top-1 per class id; None for a class without images."""
    out: list[float | None] = []
    for cls in range(num_classes):
        mask = labels == cls
        out.append(float(np.mean(predictions[mask] == cls)) if mask.any() else None)
    return out


def confusion_matrix(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def agreement(predictions_a: np.ndarray, predictions_b: np.ndarray) -> float:
    """Fraction of images on which two models predict the same class."""
    return float(np.mean(predictions_a == predictions_b)) if len(predictions_a) else 0.0


def top1_drop_points(reference: float, candidate: float) -> float:
    """How much candidate's Top-1 is below reference's, in percentage points (negative: better)."""
    return round((reference - candidate) * 100.0, 6)
