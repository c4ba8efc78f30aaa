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
    """(resamples, images): how many times each image is drawn in each resample (each row sums to `images`)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, images, size=(resamples, images))
    counts = np.zeros((resamples, images))
    np.add.at(counts, (np.repeat(np.arange(resamples), images), drawn.ravel()), 1)
    return counts


def paired_drops(reference: Matches, candidate: Matches, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 confidence: float = 0.95) -> dict[str, Drop]:
    """The drop of mAP@[.5:.95] and mAP@.5 from `reference` to `candidate` (both matched on the same images, in
    the same order) with its bootstrap interval."""
    import numpy as np

    if reference.image_ids != candidate.image_ids:
        raise ValueError("the two models were matched on different images; a paired drop needs the same images")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError("resamples must be at least 1 and confidence between 0 and 1")
    whole = reference.figures(), candidate.figures()
    draws = {metric: [] for metric in METRICS}
    drawn = weights(len(reference.image_ids), resamples, seed)
    for start in range(0, resamples, CHUNK):  # bounded memory: (chunk, thresholds, detections) per category
        ours, theirs = reference.maps(drawn[start:start + CHUNK]), candidate.maps(drawn[start:start + CHUNK])
        for n, metric in enumerate(METRICS):
            draws[metric].append(100 * (ours[n] - theirs[n]))
    draws = {metric: np.concatenate(values) for metric, values in draws.items()}
    tail = (1 - confidence) / 2
    out = {}
    for metric in METRICS:
        low, high = np.quantile(draws[metric], [tail, 1 - tail])
        ours, theirs = getattr(whole[0], metric), getattr(whole[1], metric)
        out[metric] = Drop(metric=metric, reference=ours, candidate=theirs, drop_points=100 * (ours - theirs),
                           interval_points=(float(low), float(high)), confidence=confidence, resamples=resamples,
                           seed=seed)
    return out


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
