"""Where quantization hurt, for any framework: MCT's XQuant on a bounded sample, its layers named as the user
names them, its side effects kept in the report folder. A thin layer over XQuant (MCT 2.6.1) that
- feeds it a bounded sample of images (XQuant repeats MCT's statistics collection and runs both
  models with every compared layer as an output, so its cost grows with the images it sees);
- names layers as the user does: XQuant names them by MCT's node names, the user's name plus what MCT did
  to it (`conv2d_bn` after batch-norm folding, `a_b_collapsed`, `sep_dw` / `sep_pw`): user_layers;
- reports SQNR in dB (XQuant's "sqnr" is a power ratio) and cosine similarity with 1 meaning
  identical (XQuant's "cs" is the CosineSimilarity *loss*, i.e. minus the cosine);
- keeps MCT's TensorBoard folders, quant_report.json and log under `report_dir` and nowhere else,
  and undoes what XQuant leaves behind in the process (a log file handler, MCT's global log path).
The frameworks' modules (vsq.frameworks.keras.xquant, vsq.frameworks.pytorch.xquant) make the report
and find the layers; the figures are vsq.core.layers' Explanation.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from vsq.errors import ExternalToolError, VsqError
from vsq.core.layers import (
    BATCH_IMAGES,
    MAX_REPRESENTATIVE_IMAGES,
    MAX_VALIDATION_IMAGES,
    TOOL,
    Explanation,
    Similarity,
    rebatch,
)

# Suffixes MCT's graph substitutions append to a node name (core/common/substitutions, core/keras/...).
_MCT_SUFFIXES = ("_bn", "_dw", "_pw", "_reconstructed", "_collapsed")


def explain_with(report_fn, layers_fn, representative_batches: Iterable[np.ndarray],
                 validation_batches: Iterable[np.ndarray], report_dir: Path, *,
                 max_representative_images: int | None = MAX_REPRESENTATIVE_IMAGES,
                 max_validation_images: int | None = MAX_VALIDATION_IMAGES,
                 batch_images: int = BATCH_IMAGES) -> Explanation:
    """Run a framework's XQuant on bounded samples and map its figures to the user's layers.

    report_fn(representative, validation, report_dir) -> XQuant's dict, for lists of batches as the framework
    takes them; layers_fn(report) -> the Layers, by the user's names. representative_batches /
    validation_batches: preprocessed float32 batches (N, H, W, C); the first max_*_images images are used
    (None: all), regrouped into batches of batch_images. report_dir: must be missing or empty; created.
    Raises ExternalToolError with XQuant's own message.
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
            report = report_fn(representative, validation, report_dir)
        except Exception as error:  # an MCT bug or an unsupported layer: its own words, for the record
            raise ExternalToolError(TOOL, "comparing the quantized model with the float model", error) from None
    seconds = time.perf_counter() - started
    return Explanation(
        layers=tuple(layers_fn(report)),
        output_representative=Similarity.from_xquant(report["output_similarity_metrics_repr"]),
        output_validation=Similarity.from_xquant(report["output_similarity_metrics_val"]),
        representative_images=sum(len(batch) for batch in representative),
        validation_images=sum(len(batch) for batch in validation),
        seconds=seconds, report_dir=report_dir,
        files=tuple(sorted(str(p.relative_to(report_dir)) for p in report_dir.rglob("*") if p.is_file())),
        warnings=tuple(warnings),
    )


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


def explain_options(config) -> dict:
    """The configuration's settings of an explanation, as both frameworks' explain() take them."""
    settings = config.explanation
    return {"target_platform": config.target_platform, "max_representative_images": settings.max_representative_images,
            "max_validation_images": settings.max_validation_images}
