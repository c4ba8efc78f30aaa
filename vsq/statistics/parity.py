"""Parity per image between two models run on the same images: does the exported file (or a target's file)
give the model it came from the same answer, and how far apart are their output scores?

Per image: agreement of the top-1 class, the largest absolute difference of the scores, and their cosine
similarity; summarised over the images (the worst image, the mean, a low percentile) with the few images that
diverge most, so a user sees where an export departs from its source (MCT issue 1479, AIMET 4094, TensorRT 1706
ask for exactly this). Scores are what the runtimes return (dequantized for integer outputs), as the top-1 class
is taken from them.

The scores kept per model are bounded (SCORE_VALUES): with many classes, parity covers the first images only,
and says how many (`images`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SCORE_VALUES = 4_000_000  # floats kept per model for parity (16 MB): every image below 4,000 x 1,000 classes
WORST = 5  # images listed as the most divergent


def images_kept(num_classes: int) -> int:
    """How many images' scores a model keeps for parity."""
    return max(1, SCORE_VALUES // max(1, num_classes))


def image_names(paths, root) -> list[str]:
    """The images as results.json names them: their paths under evaluate_image_dir."""
    return [Path(path).relative_to(root).as_posix() for path in paths]


def per_image(reference: np.ndarray, other: np.ndarray) -> dict[str, np.ndarray]:
    """Per image (rows of the two score arrays): top-1 agreement, max absolute difference, cosine similarity
    (1.0 for two all-zero rows, 0.0 when only one is all zero)."""
    a, b = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"parity needs two score arrays of one shape (images, classes), not {a.shape} and {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.einsum("ij,ij->i", a, b)
    both_zero = (np.linalg.norm(a, axis=1) == 0) & (np.linalg.norm(b, axis=1) == 0)
    cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), np.where(both_zero, 1.0, 0.0))
    return {"agree": np.argmax(a, axis=1) == np.argmax(b, axis=1),
            "max_abs_error": np.max(np.abs(a - b), axis=1) if a.shape[1] else np.zeros(len(a)),
            "cosine": np.clip(cosine, -1.0, 1.0)}


def summary(reference: np.ndarray, other: np.ndarray, image_ids: list[str] | None = None) -> dict:
    """results.json's parity of one pair: images, top-1 agreement, the max absolute error (max, mean, 95th
    percentile) and the cosine similarity (min, mean, 5th percentile) over the images, and the WORST images by
    cosine (their id, or index without ids)."""
    values = per_image(reference, other)
    count = len(values["agree"])
    if not count:
        return {"images": 0}
    error, cosine = values["max_abs_error"], values["cosine"]
    worst = np.argsort(cosine, kind="stable")[:WORST]
    return {
        "images": count,
        "top1_agreement": round(float(np.mean(values["agree"])), 6),
        "max_abs_error": {"max": _r(error.max()), "mean": _r(error.mean()), "p95": _r(np.percentile(error, 95))},
        "cosine": {"min": _r(cosine.min()), "mean": _r(cosine.mean()), "p5": _r(np.percentile(cosine, 5))},
        "worst_images": [{"image": image_ids[i] if image_ids else int(i), "cosine": _r(cosine[i]),
                          "max_abs_error": _r(error[i]), "top1_agrees": bool(values["agree"][i])} for i in worst],
    }


def of(reference, other, image_ids: list[str] | None = None) -> dict | None:
    """The parity of two ModelEvaluations (vsq.pipeline.evaluate) on the images both kept scores for; None when
    either kept none (an evaluation read from an older cache)."""
    if getattr(reference, "scores", None) is None or getattr(other, "scores", None) is None:
        return None
    count = min(len(reference.scores), len(other.scores))
    return summary(reference.scores[:count], other.scores[:count], image_ids[:count] if image_ids else None)


def _r(value) -> float:
    return round(float(value), 6)
