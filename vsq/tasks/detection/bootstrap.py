"""The paired drop of mAP between two models with a bootstrap interval over images.

mAP is not a mean over images, so no closed-form interval applies; the images are resampled instead (with
replacement, as many as there are), and both models are scored on the SAME resampled images each time, so the
interval is of the drop itself (the models' shared difficulty cancels) and is far narrower than two separate
intervals would suggest. Resamples are weights over pycocotools' per-image matches (vsq.tasks.detection.metrics),
so nothing is matched again. Seeded: the same inputs, seed and count give the same interval. The interval is the
percentile one at `confidence` (two-sided). Drops are in percentage points (100 x the difference of fractions),
positive when the candidate scores lower.

The verdict follows the classification checks' rules (vsq.statistics.paired.decide): "point" judges the observed
drop; "confident" FAILs when the interval's lower end is above the threshold, PASSes when its upper end is at or
below it, and is INCONCLUSIVE when it straddles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vsq.tasks.detection.metrics import Matches

METRICS = ("map_50_95", "map_50")
DEFAULT_RESAMPLES = 1000
CHUNK = 100  # resamples scored at once
RULES = ("point", "confident")


@dataclass(frozen=True)
class Drop:
    metric: str  # "map_50_95" or "map_50"
    reference: float  # the reference model's figure on every image once (fraction)
    candidate: float
    drop_points: float  # 100 x (reference - candidate)
    interval_points: tuple[float, float]  # the percentile interval of the drop over resamples
    confidence: float
    resamples: int
    seed: int

    def as_dict(self) -> dict:
        return {"metric": self.metric, "reference": self.reference, "candidate": self.candidate,
                "drop_points": self.drop_points, "interval_points": list(self.interval_points),
                "confidence": self.confidence, "resamples": self.resamples, "seed": self.seed}


def weights(images: int, resamples: int, seed: int):
    """(resamples, images): how many times each image is drawn in each resample (each row sums to `images`).
    Every row at once: draw() takes them a block at a time (blocks)."""
    import numpy as np

    return np.concatenate(list(blocks(images, resamples, seed)))


def blocks(images: int, resamples: int, seed: int, size: int | None = None):
    """The rows of weights(images, resamples, seed), at most `size` (default CHUNK) at a time: the same numbers
    (the seeded generator draws them in the same order), with one block's draws and counts in memory: 16 bytes
    per image and row (320 MB for 100 rows of 200,000 images), whatever the number of resamples."""
    import numpy as np

    size = size or CHUNK
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, size):
        rows = min(size, resamples - start)
        drawn = rng.integers(0, images, size=(rows, images))
        cells = (np.arange(rows)[:, None] * images + drawn).ravel()  # (row, image) as one index
        yield np.bincount(cells, minlength=rows * images).reshape(rows, images).astype(float)


@dataclass(frozen=True)
class Draws:
    """One model's figures on every image once and on each resample (fractions): what a paired drop needs of it.
    Models drawn with the same image count, resamples and seed were drawn on the same resampled images."""
    whole: dict  # metric -> figure on every image once
    resampled: dict  # metric -> (resamples,) figures
    image_ids: tuple
    seed: int


def draw(matches: Matches, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Draws:
    """A model's figures on `resamples` seeded resamples of its images (computed once, paired with any other)."""
    import numpy as np

    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    figures = matches.figures()
    # bounded memory: a block's weights (CHUNK, images) and (CHUNK, thresholds, detections) per category
    chunks = [matches.maps(block) for block in blocks(len(matches.image_ids), resamples, seed)]
    return Draws(whole={metric: getattr(figures, metric) for metric in METRICS},
                 resampled={metric: np.concatenate([chunk[n] for chunk in chunks]) for n, metric in enumerate(METRICS)},
                 image_ids=matches.image_ids, seed=seed)


def drops(reference: Draws, candidate: Draws, confidence: float = 0.95) -> dict[str, Drop]:
    """The drop of mAP@[.5:.95] and mAP@.5 from `reference` to `candidate` with its percentile interval."""
    import numpy as np

    if reference.image_ids != candidate.image_ids:
        raise ValueError("the two models were matched on different images; a paired drop needs the same images")
    count = len(reference.resampled["map_50"])
    if (count, reference.seed) != (len(candidate.resampled["map_50"]), candidate.seed):
        raise ValueError("the two models were resampled differently; a paired drop needs the same resamples")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    tail, out = (1 - confidence) / 2, {}
    for metric in METRICS:
        differences = 100 * (reference.resampled[metric] - candidate.resampled[metric])
        low, high = np.quantile(differences, [tail, 1 - tail])
        ours, theirs = reference.whole[metric], candidate.whole[metric]
        out[metric] = Drop(metric=metric, reference=ours, candidate=theirs, drop_points=100 * (ours - theirs),
                           interval_points=(float(low), float(high)), confidence=confidence, resamples=count,
                           seed=reference.seed)
    return out


def paired_drops(reference: Matches, candidate: Matches, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 confidence: float = 0.95) -> dict[str, Drop]:
    """The drop of mAP@[.5:.95] and mAP@.5 from `reference` to `candidate` (both matched on the same images, in
    the same order) with its bootstrap interval: both drawn on the same seeded resamples."""
    if reference.image_ids != candidate.image_ids:
        raise ValueError("the two models were matched on different images; a paired drop needs the same images")
    options = {"resamples": resamples, "seed": seed}
    return drops(draw(reference, **options), draw(candidate, **options), confidence)


def decide(drop: Drop, max_drop_points: float, rule: str) -> str:
    """PASS / FAIL / INCONCLUSIVE for "the drop is at most max_drop_points" (points), as the classification
    checks decide."""
    if rule == "point":
        return "PASS" if drop.drop_points <= max_drop_points else "FAIL"
    if rule != "confident":
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    low, high = drop.interval_points
    if low > max_drop_points:
        return "FAIL"
    return "PASS" if high <= max_drop_points else "INCONCLUSIVE"


def floor(value_points: float, minimum_points: float | None) -> str:
    """PASS / FAIL for a figure (points) against a floor (None: no floor)."""
    return "PASS" if minimum_points is None or value_points >= minimum_points else "FAIL"
