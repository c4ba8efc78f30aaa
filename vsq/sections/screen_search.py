"""The preprocessing screen's search: under which preprocessing, and which reading of labels.json, the float model
scores best on a sample of evaluation images. Framework-neutral: it sees the model only as a function from a
vsq.configuration.preprocessing.Preprocessing to the predicted class of each sample image (the section runs the framework
seam's predictor on NHWC float32 batches).

The alternatives, each one change from where the search stands:
- normalization: "[0,1]", "[-1,1]", "[0,255]", ImageNet's mean/std (torchvision's), Caffe's mean (Keras' "caffe"
  mode, r,g,b order, std 1);
- channel_order: RGB <-> BGR;
- mode: square <-> shorter_side (crop_pct 0.875);
- labels: labels.json read with every id shifted by +1 or -1 (mod classes: a 1001-class background offset, ids
  counted from 1), numbered in sorted order of the class names (how Keras' image_dataset_from_directory and
  torchvision's ImageFolder number class folders) or in natural order (class_2 before class_10). Any permutation
  can be fitted to a sample's confusion matrix; only these few, fixed in advance, are tried, so that a gain is
  evidence and not a fit. A reading is applied to the predictions: every pass of the model is scored under each.

The rule: an alternative beats the current one clearly when its Top-1 on the sample is higher by at least
min_gain_points AND the exact McNemar test on the same images, its p-value times the number of alternatives
compared in that round (Bonferroni), is below max_p_value. The search starts from the configuration and labels.json
as written; when the best alternative beats it clearly, the search moves there and tries the fields it has not
changed yet (a model may want "[-1,1]" and BGR at once), each field at most once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from vsq.configuration.datasets import natural_key
from vsq.configuration.preprocessing import Preprocessing
from vsq.statistics.paired import mcnemar_p_value

IMAGENET = {"mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]}  # 0..255 units, r,g,b
CAFFE = {"mean": [123.68, 116.779, 103.939], "std": [1.0, 1.0, 1.0]}  # Keras' caffe mode, before its BGR swap
NORMALIZATIONS = ("[0,1]", "[-1,1]", "[0,255]", IMAGENET, CAFFE)
PREPROCESSING_FIELDS = ("normalization", "channel_order", "mode")
LABELS = "labels"  # the field of a change of reading
AS_WRITTEN = "as written"


@dataclass(frozen=True)
class Rule:
    min_gain_points: float  # Top-1 gain on the sample, percentage points
    max_p_value: float  # exact McNemar p-value times the alternatives compared (Bonferroni)

    def beats(self, gain_points: float, p_value: float, compared: int) -> bool:
        return gain_points >= self.min_gain_points and p_value * compared < self.max_p_value


@dataclass(frozen=True)
class Reading:
    """How labels.json is read: relabel[k] is the labels.json id the model's output k stands for."""

    name: str
    relabel: tuple[int, ...]

    def corrected(self, class_names: Sequence[str]) -> dict[str, int]:
        """labels.json as it should be written for this model: class name -> the model's output for it."""
        output_of = {label: output for output, label in enumerate(self.relabel)}
        return {name: output_of[label] for label, name in enumerate(class_names)}


def readings(class_names: Sequence[str]) -> list[Reading]:
    """labels.json as written, then the other readings that differ from every one before (class_names: by id)."""
    n, names = len(class_names), list(class_names)
    orders = {
        "ids + 1": [(k - 1) % n for k in range(n)],  # the model's output k is labels.json's k - 1
        "ids - 1": [(k + 1) % n for k in range(n)],
        "sorted": [names.index(name) for name in sorted(names)],
        "natural": [names.index(name) for name in sorted(names, key=natural_key)],
    }
    found = [Reading(AS_WRITTEN, tuple(range(n)))]
    for name, relabel in orders.items():
        if tuple(relabel) not in {reading.relabel for reading in found}:
            found.append(Reading(name, tuple(relabel)))
    return found


def alternatives(current: Preprocessing, field: str) -> list[Preprocessing]:
    """The preprocessings one change of `field` away from current."""
    if field == "normalization":
        return [replace(current, normalization=value) for value in NORMALIZATIONS
                if replace(current, normalization=value).mean_std != current.mean_std]
    if field == "channel_order":
        return [replace(current, channel_order="BGR" if current.channel_order == "RGB" else "RGB")]
    if current.mode == "shorter_side":
        return [replace(current, mode="square")]
    return [replace(current, mode="shorter_side", crop_pct=Preprocessing(current.size).crop_pct)]


def pass_key(preprocessing: Preprocessing) -> str:
    """One pass of the model per distinct model input."""
    return json.dumps(preprocessing.cache_key(), sort_keys=True)


@dataclass(frozen=True)
class Candidate:
    preprocessing: Preprocessing
    reading: Reading
    correct: np.ndarray  # bool per sample image

    @property
    def top1(self) -> float:
        return float(self.correct.mean()) if len(self.correct) else 0.0

    def changes(self, configured: Preprocessing) -> dict:
        """What differs from the configuration, by field (mode with its crop_pct)."""
        out = {field: getattr(self.preprocessing, field) for field in PREPROCESSING_FIELDS
               if getattr(self.preprocessing, field) != getattr(configured, field)}
        if out.get("mode") == "shorter_side":
            out["crop_pct"] = self.preprocessing.crop_pct
        if self.reading.name != AS_WRITTEN:
            out[LABELS] = self.reading.name
        return out


def search(configured: Preprocessing, class_names: Sequence[str], labels: np.ndarray,
           predictions: Callable[[Preprocessing], np.ndarray], rule: Rule) -> dict:
    """The screen of one model on one sample: `predictions(preprocessing)` is the model's predicted output per
    sample image, `labels` the labels.json id of each. Returns results.json's `screen` figures (see as_part)."""
    passes: dict[str, np.ndarray] = {}
    readings_ = readings(class_names)

    def scored(preprocessing: Preprocessing) -> list[Candidate]:
        key = pass_key(preprocessing)
        if key not in passes:
            passes[key] = np.asarray(predictions(preprocessing))
        return [Candidate(preprocessing, reading, np.asarray(reading.relabel)[passes[key]] == labels)
                for reading in readings_]

    start = scored(configured)[0]
    current, changed, rounds = start, set(), []
    while True:
        fields = [field for field in PREPROCESSING_FIELDS if field not in changed]
        settings = [current.preprocessing] + [option for field in fields
                                              for option in alternatives(current.preprocessing, field)]
        compared = [candidate for preprocessing in settings for candidate in scored(preprocessing)
                    if (LABELS not in changed or candidate.reading == current.reading)
                    and (candidate.preprocessing, candidate.reading.name) != (current.preprocessing,
                                                                              current.reading.name)]
        if not compared:
            break
        # Ties go to the fewest changes, then to the order tried.
        best = max(compared, key=lambda candidate: (candidate.top1, -len(_fields_changed(current, candidate))))
        rows = [_row(candidate, current, start, configured, rule, len(compared), len(rounds) + 1)
                for candidate in compared]
        rounds.append(rows)
        if not next(row for row, candidate in zip(rows, compared) if candidate is best)["clearly_better"]:
            break
        changed |= _fields_changed(current, best)
        current = best
    found = None if current is start else _summary(current, start, configured, class_names)
    alternatives_ = [row for rows in rounds for row in rows]
    best_alternative = max(rounds[0], key=lambda row: row["top_1_accuracy"]) if rounds else None
    configured_figures = {field: getattr(configured, field) for field in PREPROCESSING_FIELDS}
    return {"images": int(len(labels)), "passes": len(passes),
            "configured": {**configured_figures, "top_1_accuracy": start.top1},
            "rule": {"min_gain_points": rule.min_gain_points, "max_p_value": rule.max_p_value,
                     "correction": "bonferroni over the alternatives of a round"},
            "found": found, "best_alternative": best_alternative, "alternatives": alternatives_}


def _fields_changed(current: Candidate, candidate: Candidate) -> set[str]:
    fields = {field for field in PREPROCESSING_FIELDS
              if getattr(candidate.preprocessing, field) != getattr(current.preprocessing, field)}
    return fields | ({LABELS} if candidate.reading != current.reading else set())


def _row(candidate: Candidate, current: Candidate, start: Candidate, configured: Preprocessing, rule: Rule,
         compared: int, round_: int) -> dict:
    """An alternative's line: its Top-1, its gain and p-value against the configuration, and whether it beat the
    round's starting point clearly (round 1: the configuration)."""
    beats = rule.beats(_gain_points(current, candidate), mcnemar_p_value(current.correct, candidate.correct), compared)
    return {"round": round_, "changes": candidate.changes(configured), "top_1_accuracy": candidate.top1,
            **_against(start, candidate), "clearly_better": beats}


def _gain_points(reference: Candidate, candidate: Candidate) -> float:
    """Top-1 of candidate minus reference's on the same images, percentage points."""
    n = len(reference.correct)
    return (int(candidate.correct.sum()) - int(reference.correct.sum())) * 100 / n if n else 0.0


def _against(reference: Candidate, candidate: Candidate) -> dict:
    return {"gain_points": round(_gain_points(reference, candidate), 4),
            "p_value": float(f"{mcnemar_p_value(reference.correct, candidate.correct):.4g}")}


def _summary(found: Candidate, start: Candidate, configured: Preprocessing, class_names: Sequence[str]) -> dict:
    out = {"changes": found.changes(configured), "top_1_accuracy": found.top1, **_against(start, found)}
    if found.reading.name != AS_WRITTEN:
        out["labels_json"] = found.reading.corrected(class_names)
    return out
