"""Paired comparison of two classifiers evaluated on the SAME images.

Per image, each model is right or wrong, which gives a paired 2x2 table:

    both_correct    reference_only (losses: reference right, candidate wrong)
    candidate_only  both_wrong     (gains: candidate right, reference wrong)

Fractions are 0..1; drops and their intervals are in percentage points, positive when the
candidate is worse (as metrics.top1_drop_points).

Interval: Newcombe's hybrid score interval for a difference of paired proportions, method 10 of
R. G. Newcombe (1998), "Improved confidence intervals for the difference between binomial
proportions based on paired data", Statistics in Medicine 17:2635-2650: the Wilson intervals of
the two accuracies, combined through their correlation phi (a positive ad - bc reduced by n/2, as
Newcombe prescribes). Unlike the Wald interval it stays sensible with no discordant pair and tiny n.
Test: exact McNemar, a two-sided binomial test on the discordant pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RULES = ("point", "confident")
_MAX_IMAGES = 10**15  # images_to_resolve() gives up beyond this


def wilson_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion correct/total, as fractions; (0.0, 1.0) for no data."""
    if total == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest  # lazily: importing scipy.stats costs ~0.6 s before a bad configuration is told

    ci = binomtest(int(correct), int(total)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class PairedComparison:
    """Reference vs candidate on the same images. drop_points and interval_points are in
    percentage points (reference Top-1 minus candidate Top-1); interval_points is the two-sided
    Newcombe interval at `confidence`; p_value is the exact McNemar test of "equal accuracy"."""

    num_images: int
    both_correct: int
    reference_only: int
    candidate_only: int
    both_wrong: int
    drop_points: float
    p_value: float
    interval_points: tuple[float, float]
    confidence: float

    def as_dict(self) -> dict:
        """JSON-safe: ints, points to 4 decimals, p-value to 4 significant digits."""
        low, high = self.interval_points
        return {
            "num_images": self.num_images,
            "both_correct": self.both_correct,
            "reference_only": self.reference_only,
            "candidate_only": self.candidate_only,
            "both_wrong": self.both_wrong,
            "drop_points": round(self.drop_points, 4),
            "p_value": float(f"{self.p_value:.4g}"),
            "interval_points": [round(low, 4), round(high, 4)],
            "confidence": float(self.confidence),
            "interval_method": "newcombe-1998-method-10",
        }


def _interval_points(a: int, b: int, c: int, d: int, confidence: float) -> tuple[float, float]:
    """Newcombe (1998) method 10 for (a + b)/n - (a + c)/n, in percentage points."""
    n = a + b + c + d
    if n == 0:
        return -100.0, 100.0
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, confidence)
    l2, u2 = wilson_interval(a + c, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    association = a * d - b * c
    if association > 0:
        association = max(association - n / 2, 0.0)
    phi = association / math.sqrt(margins) if margins else 0.0
    low = p1 - p2 - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = p1 - p2 + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(low * 100.0, -100.0), min(high * 100.0, 100.0)


def _mcnemar_exact(lost: int, gained: int) -> float:
    """Exact McNemar: two-sided binomial test of the discordant pairs at 1/2 (1.0 without any)."""
    if lost + gained == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(min(lost, gained), lost + gained, 0.5).pvalue)


def compare_counts(
    both_correct: int, reference_only: int, candidate_only: int, both_wrong: int, confidence: float = 0.95
) -> PairedComparison:
    """PairedComparison from the four cells of the paired table."""
    a, b, c, d = (int(x) for x in (both_correct, reference_only, candidate_only, both_wrong))
    if min(a, b, c, d) < 0:
        raise ValueError(f"negative count in paired table {(a, b, c, d)}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = a + b + c + d
    return PairedComparison(
        num_images=n,
        both_correct=a,
        reference_only=b,
        candidate_only=c,
        both_wrong=d,
        drop_points=(b - c) * 100 / n if n else 0.0,  # one rounding: 7 of 50 gives exactly 14.0
        p_value=_mcnemar_exact(b, c),
        interval_points=_interval_points(a, b, c, d, confidence),
        confidence=confidence,
    )


def compare_paired(
    reference_correct: np.ndarray, candidate_correct: np.ndarray, confidence: float = 0.95
) -> PairedComparison:
    """Compare per-image correctness (boolean arrays, one entry per image, same image order)."""
    ref = np.asarray(reference_correct, dtype=bool).ravel()
    cand = np.asarray(candidate_correct, dtype=bool).ravel()
    if ref.shape != cand.shape:
        raise ValueError(f"{ref.size} reference results vs {cand.size} candidate results")
    a = int(np.count_nonzero(ref & cand))
    b = int(np.count_nonzero(ref)) - a
    c = int(np.count_nonzero(cand)) - a
    return compare_counts(a, b, c, ref.size - a - b - c, confidence)


def mcnemar_p_value(reference_correct: np.ndarray, candidate_correct: np.ndarray) -> float:
    """The exact McNemar p-value of compare_paired alone (no interval): many comparisons, cheaply."""
    ref = np.asarray(reference_correct, dtype=bool).ravel()
    cand = np.asarray(candidate_correct, dtype=bool).ravel()
    return _mcnemar_exact(int(np.count_nonzero(ref & ~cand)), int(np.count_nonzero(cand & ~ref)))


def _at(c: PairedComparison, confidence: float | None) -> PairedComparison:
    """The same table at another confidence level (None: as it is)."""
    if confidence is None or confidence == c.confidence:
        return c
    return compare_counts(c.both_correct, c.reference_only, c.candidate_only, c.both_wrong, confidence)


def decide(
    comparison: PairedComparison, max_drop_points: float, rule: str = "point", confidence: float | None = None
) -> str:
    """PASS / FAIL / INCONCLUSIVE for "the drop is at most max_drop_points" (points).

    rule "point": PASS iff the observed drop_points <= max_drop_points (never INCONCLUSIVE).
    rule "confident": uses the TWO-sided interval at `confidence` (default: the comparison's own):
    FAIL when its lower bound is above the threshold, PASS when its upper bound is at or below it,
    INCONCLUSIVE when it straddles. Each verdict is thus a ONE-sided claim at (1 + confidence)/2
    (97.5% for 0.95), and the verdict always agrees with the interval that is reported.
    """
    if rule == "point":
        return "PASS" if comparison.drop_points <= max_drop_points else "FAIL"
    if rule != "confident":
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    low, high = _at(comparison, confidence).interval_points
    if low > max_drop_points:
        return "FAIL"
    return "PASS" if high <= max_drop_points else "INCONCLUSIVE"


def interval_wider_than_threshold(comparison: PairedComparison, max_drop_points: float) -> bool:
    """Is the interval wider than the threshold? Then the data set is too small to tell a drop
    of the threshold's size from no drop at all."""
    low, high = comparison.interval_points
    return high - low > max_drop_points


def scale_counts(comparison: PairedComparison, num_images: int) -> tuple[int, int, int, int]:
    """The four cells (both_correct, reference_only, candidate_only, both_wrong) at the same
    rates for num_images images: floors of cell * num_images / n, then the leftover images to the
    largest fractional parts (ties: earlier cell first). Cells sum to num_images exactly."""
    c = comparison
    cells = (c.both_correct, c.reference_only, c.candidate_only, c.both_wrong)
    floors = [cell * num_images // c.num_images for cell in cells]
    fractions = [cell * num_images % c.num_images for cell in cells]
    for i in sorted(range(4), key=lambda i: -fractions[i])[: num_images - sum(floors)]:
        floors[i] += 1
    return floors[0], floors[1], floors[2], floors[3]


def images_to_resolve(
    comparison: PairedComparison, max_drop_points: float, confidence: float | None = None
) -> int | None:
    """Roughly how many images the "confident" rule would need to stop being INCONCLUSIVE, if the
    four cell rates stayed as observed (cells scaled as scale_counts; interval at `confidence`,
    default the comparison's own). The interval shrinks like 1/sqrt(n), so the search doubles n
    from num_images, then bisects to an n that resolves while n - 1 does not (rounding of the
    scaled cells makes this only roughly the smallest such n). num_images when already resolved;
    None when it cannot resolve: no images, observed drop exactly at the threshold, or beyond
    10**15 images."""
    c = _at(comparison, confidence)
    if c.num_images == 0 or c.drop_points == max_drop_points:
        return None

    def resolved(n: int) -> bool:
        low, high = _interval_points(*scale_counts(c, n), c.confidence)
        return low > max_drop_points or high <= max_drop_points

    if resolved(c.num_images):
        return c.num_images
    low, high = c.num_images, 2 * c.num_images
    while not resolved(high):
        if high > _MAX_IMAGES:
            return None
        low, high = high, 2 * high
    while high - low > 1:  # invariant: unresolved at low, resolved at high
        mid = (low + high) // 2
        low, high = (low, mid) if resolved(mid) else (mid, high)
    return high
