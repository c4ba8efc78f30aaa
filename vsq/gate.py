"""The Top-1 gate of one model, used by every accuracy test and by the variants' recommendation.

A Check carries its verdict, the one-line message a failing test shows and the figures a test
records (JUnit properties) before it asserts. Top-1 is a fraction, drops are percentage points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vsq.metrics import top1_drop_points


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str  # what a failing test says
    figures: dict = field(default_factory=dict)  # recorded before the assertion


def drop_check(where: str, described: str, top1: float, keras_top1: float, limit: float, limit_name: str) -> Check:
    """The model's Top-1 is at most `limit` points below Keras's."""
    drop = top1_drop_points(keras_top1, top1)
    return Check(_drop_within(top1, keras_top1, limit),
                 f"{where}: {described} Top-1 {top1:.4f} is {drop:.2f} points below Keras {keras_top1:.4f}; "
                 f"{limit_name} is {limit} points",
                 {"top_1_accuracy": top1, "top_1_accuracy_keras": keras_top1, "top_1_drop_points": drop,
                  "max_top1_drop": limit})


def floor_check(where: str, described: str, top1: float, minimum: float | None, num_classes: int,
                minimum_name: str) -> Check:
    """The model's Top-1 is at least `minimum`, or better than chance (1 / classes) when it is None."""
    chance = 1.0 / num_classes
    if minimum is None:
        return Check(_above_floor(top1, minimum, num_classes), f"{where}: {described} Top-1 {top1:.4f} is no better than chance ({chance:.4f})",
                     {"top_1_accuracy": top1, "min_top1": f"chance ({chance:.4f})"})
    return Check(_above_floor(top1, minimum, num_classes), f"{where}: {described} Top-1 {top1:.4f} is below {minimum_name} {minimum:.4f}",
                 {"top_1_accuracy": top1, "min_top1": minimum})


def within_thresholds(top1: float, keras_top1: float, max_top1_drop: float, min_top1: float | None,
                      num_classes: int) -> bool:
    """Both checks above, as one verdict (the variants' table and recommendation)."""
    return _drop_within(top1, keras_top1, max_top1_drop) and _above_floor(top1, min_top1, num_classes)


def _drop_within(top1: float, keras_top1: float, limit: float) -> bool:
    return top1_drop_points(keras_top1, top1) <= limit


def _above_floor(top1: float, minimum: float | None, num_classes: int) -> bool:
    return top1 > 1.0 / num_classes if minimum is None else top1 >= minimum
