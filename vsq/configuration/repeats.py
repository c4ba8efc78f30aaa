"""`calibration_repeats`: N, or {"count": N, "variants": true}. The default recipe (and, when asked, every variant
that reads calibration data) is built once per seeded calibration draw (vsq.sections.calibrations).

One N for every repeated recipe, on the same seeds: draw i of each recipe calibrates on the same images, so recipes
are compared draw by draw, not only by their spreads. Variants are repeated only when asked: each costs N builds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vsq.errors import ConfigError


@dataclass(frozen=True)
class CalibrationRepeats:
    count: int = 1  # draws per repeated recipe; 1: today's single build
    variants: bool = False  # repeat the calibrated variants too


def calibration_repeats(file: Path, data: dict, has_variants: bool) -> CalibrationRepeats:
    """The key as written (the schema has checked its types and limits)."""
    written = data.get("calibration_repeats", 1)
    if isinstance(written, dict):
        repeats = CalibrationRepeats(int(written["count"]), bool(written.get("variants", False)))
    else:
        repeats = CalibrationRepeats(int(written))
    if repeats.variants and not has_variants:
        raise ConfigError(file, "calibration_repeats.variants", "is true but the configuration has no \"variants\"; "
                          "remove it, or add the variants to repeat")
    return repeats
