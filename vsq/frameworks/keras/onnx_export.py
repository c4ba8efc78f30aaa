"""The onnxruntime_* recipes: the Keras model converted to ONNX by tf2onnx, and that ONNX model quantized by
ONNX Runtime's static quantization (QDQ, per-channel int8 weights, int8 activations) on the calibration batches.

Both are built from the Keras model (an int8 build does not depend on a float variant being listed), and
written atomically. The tools' chatter (tf2onnx's INFO lines, the quantizer's root-logger warnings) is
silenced; their errors are not.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from vsq.runtimes.telemetry import import_quietly
from vsq.util import atomic

# Pinned rather than tf2onnx 1.17's default (15), so that the file does not change when tf2onnx does; opset 17
# (ONNX 1.12) has every op a Keras classifier needs, and ONNX Runtime 1.32 runs it.
OPSET = 17
INPUT_NAME = "input"
# vsq's quantize_static arguments (ONNX Runtime's default per_channel is False; per-channel weights are what
# ONNX Runtime's documentation recommends for CNNs); a recipe's options replace them.
DEFAULTS = {"quant_format": "QDQ", "per_channel": True, "activation_type": "QInt8", "weight_type": "QInt8"}
CALIBRATION_METHODS = {"minmax": "MinMax", "entropy": "Entropy", "percentile": "Percentile",
                       "distribution": "Distribution"}


def export_float(model, dest: Path) -> Path:
    """dest (.onnx): the Keras model in ONNX, NHWC input of any batch size as Keras takes it."""
    with tempfile.TemporaryDirectory(prefix="vsq-onnx-") as folder:
        path = _convert(model, Path(folder) / "model.onnx")
        return _place(path, dest)


def export_int8(model, batches: Callable[[], Iterable], dest: Path, calibration_method: str,
                reduce_range: bool, options: dict | None = None) -> Path:
    """dest (.onnx): quantize_static's QDQ model of the converted Keras model, calibrated on `batches`; options:
    quantize_static's other arguments by its names (DEFAULTS: vsq's, per-channel int8 QDQ).
    reduce_range: 7-bit weights, which ONNX Runtime advises on x86-64 without VNNI (measured on a CNN on
    handwritten digits, AVX2 without VNNI: Top-1 0.534 without, 0.858 with; Keras 0.880)."""
    import_quietly("onnxruntime")  # before its quantizer imports it
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        """The calibration batches, one per get_next, as ONNX Runtime's calibrators read them."""

        def __init__(self):
            self.batches = iter(batches())

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: batch}

        def rewind(self):
            self.batches = iter(batches())

    with tempfile.TemporaryDirectory(prefix="vsq-onnx-") as folder:
        folder = Path(folder)
        float_path = _convert(model, folder / "model.onnx")
        with _quiet():
            # Shape inference and graph optimisation first, as ONNX Runtime asks (it warns without them).
            quant_pre_process(str(float_path), str(folder / "pre.onnx"))
            settings = {**DEFAULTS, **(options or {})}
            for name, kind in (("activation_type", QuantType), ("weight_type", QuantType), ("quant_format", QuantFormat)):
                settings[name] = kind[settings[name]]
            quantize_static(str(folder / "pre.onnx"), str(folder / "int8.onnx"), Reader(), reduce_range=reduce_range,
                            calibrate_method=getattr(CalibrationMethod, CALIBRATION_METHODS[calibration_method]),
                            **settings)
        return _place(folder / "int8.onnx", dest)


def _convert(model, path: Path) -> Path:
    import tensorflow as tf
    import tf2onnx

    import onnx

    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME),)
    with _quiet():
        converted, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET, output_path=str(path))
    # tf2onnx keeps an op it cannot convert as is and only logs it; ONNX's checker refuses such a graph here,
    # naming the op, rather than ONNX Runtime when the file is evaluated.
    onnx.checker.check_model(converted)
    return path


def _place(path: Path, dest: Path) -> Path:
    with atomic.atomic_path(dest) as tmp:
        shutil.copyfile(path, tmp)
    return dest


@contextmanager
def _quiet():
    """tf2onnx logs every step at INFO; ONNX Runtime's quantizer warns on the root logger about choices we
    make on purpose. Errors still show."""
    loggers = [logging.getLogger(), logging.getLogger("tf2onnx")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
