"""Where quantization hurt: per-layer similarity of MCT's quantized Keras model to the float model.

A thin layer over MCT's XQuant (`xquant_report_keras_experimental`, MCT 2.6.1) that
- feeds it a bounded sample of images (XQuant repeats MCT's statistics collection and runs both
  models with every compared layer as an output, so its cost grows with the images it sees);
- names layers as the user does: XQuant names them by MCT's wrappers (`keras_quantization_wrapper_3`)
  whose `.layer` carries MCT's node name, itself the user's name plus what MCT did to it
  (`conv2d_bn` after batch-norm folding, `a_b_collapsed`, `sep_dw` / `sep_pw`);
- reports SQNR in dB (XQuant's "sqnr" is a power ratio) and cosine similarity with 1 meaning
  identical (XQuant's "cs" is Keras' CosineSimilarity *loss*, i.e. minus the cosine);
- keeps MCT's TensorBoard folders, quant_report.json and log under `report_dir` and nowhere else,
  and undoes what XQuant leaves behind in the process (a log file handler, MCT's global log path).

JSON numbers: an exact layer has SQNR +inf dB, written "inf"; "-inf" when the float output is all
zeros but the quantized one is not; NaN (nothing to compare) is written null.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from vsq.errors import ExternalToolError, VsqError

TOOL = "Model Compression Toolkit XQuant"
# Default bounds of the sample, in images: measured to keep the explanation under 25 % of a cold
# quantization on MobileNetV2 1.0 at 224 (benchmarks/explain_cost.py: 16 % there, 15 % on the example).
MAX_REPRESENTATIVE_IMAGES = 16
MAX_VALIDATION_IMAGES = 32
BATCH_IMAGES = 16  # images per XQuant batch: all compared activations of a batch are held at once
RANKED_BY = "sqnr_db on the validation sample, lowest first"
# Suffixes MCT's graph substitutions append to a node name (core/common/substitutions, core/keras/...).
_MCT_SUFFIXES = ("_bn", "_dw", "_pw", "_reconstructed", "_collapsed")


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


def explain(float_model, quantized_model, representative_batches: Iterable[np.ndarray],
            validation_batches: Iterable[np.ndarray], report_dir: Path, *, target_platform: str = "imx500",
            max_representative_images: int | None = MAX_REPRESENTATIVE_IMAGES,
            max_validation_images: int | None = MAX_VALIDATION_IMAGES,
            batch_images: int = BATCH_IMAGES) -> Explanation:
    """Run XQuant on bounded samples and map its figures to the user's layers.

    float_model: the user's Keras model. quantized_model: MCT's quantized Keras model, in memory from
    PTQ or reloaded with mct_quantizers.keras_load_quantized_model (both give the same figures).
    representative_batches / validation_batches: preprocessed float32 batches (N, H, W, C); the first
    max_*_images images are used (None: all), regrouped into batches of batch_images. target_platform:
    the MCT platform the model was quantized for (XQuant folds the float model as PTQ did for it).
    report_dir: must be missing or empty; created. Raises ExternalToolError with XQuant's own message.
    """
    report_dir = Path(report_dir)
    if report_dir.exists() and any(report_dir.iterdir()):
        raise VsqError(f"{report_dir}: not empty; XQuant would mix its TensorBoard files with older ones")
    report_dir.mkdir(parents=True, exist_ok=True)
    representative = rebatch(representative_batches, max_representative_images, batch_images)
    validation = rebatch(validation_batches, max_validation_images, batch_images)
    if not representative or not validation:
        raise VsqError("XQuant needs at least one representative and one validation image")
    started = time.perf_counter()
    with _contained_mct_logging(report_dir) as warnings:
        try:
            report = _xquant_report(float_model, quantized_model, representative, validation, report_dir,
                                    target_platform)
        except Exception as error:  # an MCT bug or an unsupported layer: its own words, for the record
            raise ExternalToolError(TOOL, "comparing the quantized model with the float model", error) from None
    seconds = time.perf_counter() - started
    return Explanation(
        layers=tuple(_layers(float_model, quantized_model, report)),
        output_representative=Similarity.from_xquant(report["output_similarity_metrics_repr"]),
        output_validation=Similarity.from_xquant(report["output_similarity_metrics_val"]),
        representative_images=sum(len(batch) for batch in representative),
        validation_images=sum(len(batch) for batch in validation),
        seconds=seconds, report_dir=report_dir,
        files=tuple(sorted(str(p.relative_to(report_dir)) for p in report_dir.rglob("*") if p.is_file())),
        warnings=tuple(warnings),
    )


def _xquant_report(float_model, quantized_model, representative, validation, report_dir: Path, platform: str) -> dict:
    """MCT's xquant_report_keras_experimental, but folding the float model for `platform`: MCT 2.6.1's
    facade always folds for its default platform (imx500), which is not what a tflite or qnnpack model
    was quantized for. Logging is left to _contained_mct_logging (the facade's set_log_file and shutdown)."""
    from model_compression_toolkit.logger import Logger
    from model_compression_toolkit.target_platform_capabilities.targetplatform2framework.attach2keras import (
        AttachTpcToKeras,
    )
    from model_compression_toolkit.xquant import XQuantConfig
    from model_compression_toolkit.xquant.keras.core_report_generator import core_report_generator
    from model_compression_toolkit.xquant.keras.keras_report_utils import KerasReportUtils

    from vsq.frameworks.keras.quantize import target_platform_capabilities

    Logger.set_log_file(log_folder=str(report_dir))
    utils = KerasReportUtils(str(report_dir))
    utils.model_folding_utils.fw_default_fqc = AttachTpcToKeras().attach(target_platform_capabilities(platform))
    return core_report_generator(
        float_model=float_model, quantized_model=quantized_model,
        repr_dataset=lambda: ([batch] for batch in representative),  # MCT's representative data: lists of inputs
        validation_dataset=lambda: (([batch],) for batch in validation),  # XQuant takes item[0] as the inputs
        fw_report_utils=utils, xquant_config=XQuantConfig(report_dir=str(report_dir)))


def _layers(float_model, quantized_model, report: dict) -> Iterable[Layer]:
    representative = report["intermediate_similarity_metrics_repr"]
    validation = report["intermediate_similarity_metrics_val"]
    user = {layer.name: (i, type(layer).__name__) for i, layer in enumerate(float_model.layers)}
    for wrapper in quantized_model.layers:  # the quantized model's order is topological
        if wrapper.name not in validation:
            continue
        mct_name = wrapper.layer.name
        names = user_layers(mct_name, user) or (mct_name,)
        index, kind = user.get(names[0], (None, type(wrapper.layer).__name__))
        yield Layer(names[0], kind, index, mct_name, wrapper.name, names[1:],
                    Similarity.from_xquant(representative[wrapper.name]),
                    Similarity.from_xquant(validation[wrapper.name]))


def user_layers(mct_name: str, user_names) -> tuple[str, ...]:
    """The user's layers behind MCT's node name (first: the one whose output is compared), or ().

    `conv2d_bn` -> (conv2d,); `sep_dw` -> (sep,); `a_b_collapsed` -> (a, b) when a and b are layers
    (the output compared is then b's, the weights a's merged with b's).
    """
    if mct_name in user_names:
        return (mct_name,)
    for suffix in _MCT_SUFFIXES:
        if mct_name.endswith(suffix):
            stem = mct_name[: -len(suffix)]
            found = user_layers(stem, user_names)
            if found:
                return found
            if suffix == "_collapsed":  # first.name + "_" + second.name + "_collapsed"
                for cut in (i for i, char in enumerate(stem) if char == "_"):
                    first, second = user_layers(stem[:cut], user_names), user_layers(stem[cut + 1:], user_names)
                    if first and second:
                        return first + second  # the first holds the quantized weights
    return ()


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


@contextlib.contextmanager
def _contained_mct_logging(report_dir: Path):
    """Keep XQuant's side effects in report_dir and this call.

    XQuant adds a FileHandler (report_dir/logs_<time>/mct_log.log) to MCT's logger and never removes
    it, sets MCT's global Logger.LOG_PATH (while set, MCT's PTQ writes TensorBoard logs there) and
    prints the log file's path. It ends with logging.shutdown(), which closes every handler of the
    process: a FileHandler opened with mode "w" (pytest's --log-file) then never writes again. So
    logging.shutdown is a no-op during the call (Python's exit still runs the real one, registered with
    atexit) and only the handlers XQuant added are closed, below. Yields the list of XQuant's warnings,
    filled as they are logged.
    """
    from model_compression_toolkit.logger import Logger

    logger = logging.getLogger("Model Compression Toolkit")
    handlers, log_path, level = list(logger.handlers), Logger.LOG_PATH, logger.level
    shutdown = logging.shutdown
    warnings: list[str] = []
    collector = _Collector(warnings)
    logger.addHandler(collector)
    logger.setLevel(min(level or logging.WARNING, logging.WARNING))
    logging.shutdown = _keep_other_handlers
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield warnings
    finally:
        logging.shutdown = shutdown
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        Logger.LOG_PATH = log_path
        logger.setLevel(level)


def _keep_other_handlers(*args, **kwargs) -> None:
    """Stands for logging.shutdown while XQuant runs (see _contained_mct_logging)."""


class _Collector(logging.Handler):
    def __init__(self, messages: list[str]):
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
