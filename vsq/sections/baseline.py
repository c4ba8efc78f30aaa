"""Baselines: the last accepted Top-1 of each model, per configuration, and the comparison with it.

The file holds every configuration that shares it: {"configurations": {name: entry}}. Accepting
rewrites it atomically under a lock (several configurations, several workers) and keeps the file it
replaced as <stem>.previous<suffix>. An entry keeps which images each model got right (vsq.statistics.per_image),
so today's comparison is paired on the images both runs share; entries accepted before that
(format 1) are compared on Top-1 alone, and say so.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from vsq.util import atomic
from vsq.statistics import metrics, per_image
from vsq.errors import VsqError
from vsq.pipeline.verdicts import decision
from vsq.reporting.history import variant_figures
from vsq.statistics.paired import compare_paired

FORMAT = 2  # 2: entries keep per-image correctness


def figures(document: dict) -> dict:
    """Top-1 per model (and per variant) of a results.json document."""
    out = {name: model["top_1_accuracy"] for name, model in document["models"].items()}
    return {**out, **variant_figures(document)}


def entry(document: dict) -> dict:
    env = document["environment"]
    return {
        "accepted": document["created"],
        "top_1": figures(document),
        "num_images": document["num_images"],
        "per_image": document["per_image"],
        "versions": {key: env.get(key) for key in ("vsq", "tensorflow", "model_compression_toolkit")},
    }


def previous_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def read(path: Path) -> dict:
    """The whole baseline file; an empty one when it does not exist yet."""
    if not path.exists():
        return {"format": FORMAT, "configurations": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("configurations"), dict):
            raise ValueError("no \"configurations\" object")
        return data
    except (OSError, ValueError, AttributeError) as error:
        raise VsqError(f"{path}: not a vsq baseline file ({error}); point --baseline at a file written by "
                       "--accept-baseline, or remove it and accept again") from None


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def accept(path: Path, name: str, document: dict) -> dict | None:
    """Store the document's figures as the accepted ones for `name`; return the entry they replace."""
    with _locked(path):
        data = read(path)
        old = data["configurations"].get(name)
        if path.exists():
            shutil.copyfile(path, previous_path(path))
        data["format"] = FORMAT
        data["configurations"][name] = entry(document)
        atomic.write_json(path, data)
        return old


@dataclass(frozen=True)
class Comparison:
    """Today against the accepted run. Paired (on the images both share) when both keep per-image
    results: then drop_points is over those images, with its interval and the decision rule's verdict."""

    model: str
    current: float
    accepted: float | None
    drop_points: float | None
    tolerance_points: float
    accepted_on: str | None
    paired: dict | None = None  # vsq.statistics.paired.PairedComparison.as_dict(), accepted as the reference
    decision: dict | None = None  # vsq.pipeline.verdicts.decision on paired
    images_added: int = 0  # evaluation images today has and the accepted run had not
    images_removed: int = 0

    @property
    def ok(self) -> bool:
        if self.accepted is None:
            return False
        return self.decision["passes"] if self.decision else self.drop_points <= self.tolerance_points


def compare(document: dict, accepted: dict | None, model: str, tolerance_points: float, thresholds) -> Comparison:
    current = figures(document).get(model)
    value = (accepted or {}).get("top_1", {}).get(model)
    drop = metrics.top1_drop_points(value, current) if value is not None and current is not None else None
    comparison = Comparison(model, current, value, drop, tolerance_points, (accepted or {}).get("accepted"))
    aligned = per_image.align(accepted["per_image"], document["per_image"], model) \
        if value is not None and "per_image" in accepted and "per_image" in document else None
    if aligned is None:
        return comparison
    then, now, added, removed = aligned
    paired = compare_paired(then, now, thresholds.confidence).as_dict()
    return replace(comparison, drop_points=paired["drop_points"], paired=paired,
                   decision=decision(paired, tolerance_points, thresholds), images_added=added,
                   images_removed=removed)
