"""The per-layer explanation as results.json holds it: how close each quantized layer's output is to the
float model's (mse, cosine, SQNR in dB) on a calibration and an evaluation sample, by the user's layer
names, and the hint a failing accuracy check appends. Framework-neutral: vsq.frameworks.keras.xquant fills it
from MCT's XQuant.

JSON numbers: an exact layer has SQNR +inf dB, written "inf"; "-inf" when the float output is all
zeros but the quantized one is not; NaN (nothing to compare) is written null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

TOOL = "Model Compression Toolkit XQuant"
# Default bounds of the sample, in images: measured to keep the explanation under 25 % of a cold
# quantization on MobileNetV2 1.0 at 224 (benchmarks/explain_cost.py: 16 % there, 15 % on the example).
MAX_REPRESENTATIVE_IMAGES = 16
MAX_VALIDATION_IMAGES = 32
BATCH_IMAGES = 16  # images per XQuant batch: all compared activations of a batch are held at once
RANKED_BY = "sqnr_db on the validation sample, lowest first"


@dataclass(frozen=True)
class Similarity:
    """How close the quantized tensor is to the float one, averaged over the sample's batches."""

    mse: float  # mean squared error, in the tensor's units squared
    cosine: float  # cosine similarity of the flattened tensors, 1 = same direction
    sqnr_db: float  # signal-to-quantization-noise ratio in dB; +inf when exact

    @classmethod
    def from_xquant(cls, metrics: dict) -> "Similarity":
        return cls(mse=float(metrics["mse"]), cosine=-float(metrics["cs"]), sqnr_db=to_db(float(metrics["sqnr"])))

    def as_dict(self) -> dict:
        return {"mse": json_number(self.mse), "cosine": json_number(self.cosine), "sqnr_db": json_number(self.sqnr_db)}

    @classmethod
    def from_dict(cls, data: dict) -> "Similarity":
        return cls(**{key: from_json_number(data[key]) for key in ("mse", "cosine", "sqnr_db")})


@dataclass(frozen=True)
class Layer:
    """One quantized layer of the user's model, compared at its output (before activation quantization)."""

    name: str  # the user's layer name in the float model (MCT's node name when it maps to none)
    type: str  # class name of the user's layer, e.g. Conv2D
    index: int | None  # position in float_model.layers; None when the name maps to no user layer
    mct_name: str  # MCT's node name, e.g. conv2d_bn after batch-norm folding
    wrapper: str  # the quantized model's layer, e.g. keras_quantization_wrapper_3
    merged: tuple[str, ...]  # other user layers MCT merged into this one (collapsing)
    representative: Similarity  # on the calibration batches
    validation: Similarity  # on the evaluation sample

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "index": self.index, "mct_name": self.mct_name,
                "wrapper": self.wrapper, "merged": list(self.merged),
                "representative": self.representative.as_dict(), "validation": self.validation.as_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Layer":
        return cls(data["name"], data["type"], data["index"], data["mct_name"], data["wrapper"],
                   tuple(data["merged"]), Similarity.from_dict(data["representative"]),
                   Similarity.from_dict(data["validation"]))


@dataclass(frozen=True)
class Explanation:
    """XQuant's comparison of a quantized model with its float model, by the user's layer names."""

    layers: tuple[Layer, ...]  # in the quantized model's (topological) order
    output_representative: Similarity  # model output on the calibration batches
    output_validation: Similarity  # model output on the evaluation sample
    representative_images: int
    validation_images: int
    seconds: float  # wall time of XQuant, seconds
    report_dir: Path  # MCT's TensorBoard folders, quant_report.json and log folder
    files: tuple[str, ...]  # what XQuant wrote, relative to report_dir
    warnings: tuple[str, ...] = ()  # XQuant's own warnings (e.g. a layer it could not match)

    def worst(self, n: int = 3, on: str = "validation") -> list[Layer]:
        """The n layers with the lowest SQNR (dB) on `on` ("validation" or "representative").

        NaN (nothing to compare) ranks as exact; ties keep network order.
        """
        def key(layer: Layer) -> float:
            db = getattr(layer, on).sqnr_db
            return math.inf if math.isnan(db) else db

        return sorted(self.layers, key=key)[:n]

    def as_dict(self) -> dict:
        """results.json's `explanation` section: JSON-safe (json.dumps(..., allow_nan=False) works)."""
        return {
            "status": "ok",
            "tool": TOOL,
            "ranked_by": RANKED_BY,
            "worst": [layer.name for layer in self.worst(3)],
            "output": {"representative": self.output_representative.as_dict(),
                       "validation": self.output_validation.as_dict()},
            "layers": [layer.as_dict() for layer in self.layers],
            "images": {"representative": self.representative_images, "validation": self.validation_images},
            "seconds": round(self.seconds, 3),
            "report_dir": str(self.report_dir),
            "files": list(self.files),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Explanation":
        """Back from as_dict (a cached explanation.json)."""
        return cls(tuple(Layer.from_dict(item) for item in data["layers"]),
                   Similarity.from_dict(data["output"]["representative"]),
                   Similarity.from_dict(data["output"]["validation"]),
                   data["images"]["representative"], data["images"]["validation"], data["seconds"],
                   Path(data["report_dir"]), tuple(data["files"]), tuple(data.get("warnings", ())))


def failed(message: str, report_dir: Path | None = None) -> dict:
    """results.json's `explanation` section when XQuant failed: the tool's message, nothing else."""
    return {"status": "failed", "tool": TOOL, "error": message,
            "report_dir": None if report_dir is None else str(report_dir)}


def failure_hint(section: dict | None) -> str:
    """What a failing accuracy test appends to its one-line message, from results.json's `explanation`
    section: the three layers with the lowest SQNR and the variants that usually help, or XQuant's
    failure; "" when there is no explanation (when: never, or not computed). Bounded (long layer names and
    tool messages are cut) so that the message stays one short line; the report folder is shown relative
    to the working directory when under it."""
    from vsq.util.paths import shown

    if not section or section.get("status") not in ("ok", "failed"):
        return ""
    if section["status"] == "failed":
        return f"; the per-layer explanation failed: {_cut(section['error'].splitlines()[0], HINT_ERROR_CHARS)}"
    layers = {layer["name"]: layer for layer in section["layers"]}
    worst = ", ".join(f"{_cut(name, HINT_NAME_CHARS)} ({layers[name]['type']}) "
                      f"{_shown_db(layers[name]['validation']['sqnr_db'])}" for name in section["worst"])
    if not worst:
        return "; XQuant compared no layers"
    return (f"; lowest SQNR: {worst}; try variants mct_mixed_precision, mct_gptq; "
            f"report: {shown(section['report_dir'])}")


HINT_NAME_CHARS = 32  # a layer name in the hint, at most (MobileNetV2's longest is 21)
HINT_ERROR_CHARS = 160  # XQuant's message in the hint, at most (results.json keeps all of it)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown_db(value) -> str:
    if value is None:
        return "no signal"
    return "exact" if value == "inf" else ("-inf dB" if value == "-inf" else f"{value:.1f} dB")


def rebatch(batches: Iterable[np.ndarray], max_images: int | None, batch_images: int) -> list[np.ndarray]:
    """The first max_images images (None: all) of `batches`, in batches of batch_images (the last may be smaller)."""
    taken, count = [], 0
    for batch in batches:
        if max_images is not None and count >= max_images:
            break
        batch = np.asarray(batch, dtype=np.float32)
        if max_images is not None:
            batch = batch[: max_images - count]
        taken.append(batch)
        count += len(batch)
    if not taken:
        return []
    images = np.concatenate(taken)
    return [images[i:i + batch_images] for i in range(0, len(images), batch_images)]


def spread_indices(total: int, count: int) -> np.ndarray:
    """`count` indices spread evenly over range(total): a deterministic sample that covers every class
    of a folder listed class by class (the first images would all be one class)."""
    if count >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, count).round().astype(int))


def to_db(ratio: float) -> float:
    """A power ratio in dB: +inf for an infinite ratio (exact), -inf for 0, NaN stays NaN."""
    if math.isnan(ratio):
        return math.nan
    if ratio <= 0:
        return -math.inf
    return math.inf if math.isinf(ratio) else 10.0 * math.log10(ratio)


def json_number(value: float):
    """A finite float as is, +inf as "inf", -inf as "-inf", NaN as None (JSON has none of them)."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def from_json_number(value) -> float:
    return math.nan if value is None else float(value)  # float("inf") and float("-inf") parse
