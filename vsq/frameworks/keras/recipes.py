"""Quantization recipes: the default model and the variants, built from the same calibration batches.

A recipe (vsq.configuration.config.Variant) is exported to output_dir/model_<name>.tflite; the default model is the
reserved recipe named "quantized" (mct_ptq for the configuration's target_platform), so it becomes
model_quantized.tflite through the same code, cache key and checks as every variant. MCT kinds go through
vsq.frameworks.keras.quantize and MCT's INT8 export; tf_* kinds through TensorFlow's TFLite converter;
onnxruntime_* kinds through tf2onnx and ONNX Runtime's quantizer (onnx_export, model_<name>.onnx); openvino_*
kinds through OpenVINO's converter and NNCF (openvino_export, model_<name>.xml and .bin). Every calibrated kind
sees the same images, preprocessing and seed as the default model, so differences between the files come
from the recipe alone.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from vsq.util import atomic
from vsq.util.descriptors import to_devnull
from vsq.configuration.config import MCT_KINDS, Config, Variant
from vsq.errors import ExternalToolError
from vsq.core.reference import DEFAULT_RECIPE_NAME
from vsq.frameworks.recipe_options import (  # noqa: F401 (re-exported: the recipes' names before the move)
    RUNTIME_TOOLS,
    default_recipe,
    fix_hint,
    onnx_reduce_range,
    options,
    target_platform,
)

TF_KINDS = ("tf_dynamic_range", "tf_float16", "tf_integer_float_fallback", "tf_full_integer")
# MCT's default number of images to score bit-widths in mixed precision.
MP_SCORE_IMAGES = 32

Batches = Callable[[], Iterable[np.ndarray]]  # a fresh iterator over float32 batches, one per iteration


def build_variant(variant: Variant, keras_model, batches: Batches, config: Config, dest: Path) -> Path:
    """Write `dest` (atomically) for one variant, and for MCT kinds its keras_file_name beside it; raise
    ExternalToolError with the tool's own message."""
    if variant.kind in MCT_KINDS:
        return _build_mct(variant, keras_model, batches, config, dest)
    if variant.kind in TF_KINDS:
        return _convert(variant, keras_model, batches, dest)
    if variant.kind in RUNTIME_TOOLS:
        return _build_for_runtime(variant, keras_model, batches, config, dest)
    raise ValueError(f"variant {variant.name}: unknown kind {variant.kind!r}")  # the schema prevents this


def _build_mct(variant: Variant, model, batches: Batches, config: Config, dest: Path) -> Path:
    from vsq.frameworks.keras import quantize

    platform = target_platform(variant, config)

    def data():  # MCT wants lists of inputs
        return ([batch] for batch in batches())

    try:
        if variant.kind == "mct_ptq":
            quantized = quantize.ptq(model, data, platform, variant.options)
        elif variant.kind == "mct_gptq":
            quantized = quantize.gradient_post_training_quantize(model, data, platform, variant.epochs,
                                                                 variant.options)
        else:
            # a weights_memory option (bytes) replaces the fraction of the 8-bit size (quantize.mixed_precision_quantize)
            full = 0.0 if "weights_memory" in variant.options else quantize.weights_memory_8bit(model, data, platform)
            images = min(MP_SCORE_IMAGES, config.batch_size * config.iteration_count)
            quantized = quantize.mixed_precision_quantize(
                model, data, platform, variant.weights_memory_fraction * full, images, variant.options)
    except Exception as error:  # MCT's own message is what the user needs
        raise ExternalToolError("Model Compression Toolkit", _action(variant, platform), error) from None
    # The same MCT model as a .keras file beside the .tflite (0.04 s for the example): one build.
    quantize.export_keras(quantized, dest.with_name(variant.keras_file_name))
    from vsq.frameworks.keras.detector import export_network_int8_tflite, is_detector

    export = export_network_int8_tflite if is_detector(quantized) else quantize.export_int8_tflite  # TFLite has no NMS
    with _quiet_converter():
        return export(quantized, dest)


def _build_for_runtime(variant: Variant, model, batches: Batches, config: Config, dest: Path) -> Path:
    """The ONNX Runtime and OpenVINO kinds; a converter's or quantizer's failure in its own words."""
    from vsq.frameworks.keras import onnx_export, openvino_export

    try:
        if variant.kind == "onnxruntime_float":
            return onnx_export.export_float(model, dest)
        if variant.kind == "onnxruntime_int8":
            settings = dict(variant.options)
            method = settings.pop("calibrate_method", variant.calibration_method).lower()
            return onnx_export.export_int8(model, batches, dest, method, settings.pop("reduce_range", onnx_reduce_range()),
                                           settings)
        if variant.kind == "openvino_float":
            return openvino_export.export_float(model, dest)
        return openvino_export.export_int8(model, batches, config.iteration_count, dest, variant.options)
    except Exception as error:
        raise ExternalToolError(RUNTIME_TOOLS[variant.kind], _action(variant), error) from None


def _action(variant: Variant, platform: str | None = None) -> str:
    where = f", target platform {platform}" if platform else ""
    what = variant.file_name if variant.name == DEFAULT_RECIPE_NAME else f"variant {variant.name}"
    return f"building {what} ({variant.kind}{where})"


def _convert(variant: Variant, model, batches: Batches, dest: Path) -> Path:
    import tensorflow as tf

    try:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        _configure(converter, variant, batches, model.inputs[0].dtype.as_numpy_dtype)
        with _quiet_converter(), to_devnull(1, 2):  # the MLIR converter's op counts
            data = converter.convert()
    except Exception as error:
        raise ExternalToolError("TensorFlow Lite converter", _action(variant), error) from None
    atomic.write_bytes(dest, data)
    return dest


@contextmanager
def _quiet_converter():
    """TF 2.15 warns on every conversion to int8/uint8 inputs (MCT's INT8 export makes one too) that
    input statistics are missing; post-training calibration supplies them, so the warning is noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        yield


def _configure(converter, variant: Variant, batches: Batches, dtype) -> None:
    """TensorFlow's post-training quantization recipes, one per kind, then the variant's converter options;
    calibration batches in the model's input dtype (a model that takes raw 8-bit pixels is calibrated with them,
    not with floats it cannot take)."""
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant.kind == "tf_float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant.kind in ("tf_integer_float_fallback", "tf_full_integer"):
        converter.representative_dataset = lambda: ([batch.astype(dtype)] for batch in batches())
    if variant.kind == "tf_full_integer":
        io_type = {"int8": tf.int8, "uint8": tf.uint8}[variant.io_type]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    for name, value in variant.options.items():  # TFLiteConverter's attributes (vsq.configuration.recipes)
        if name in ("inference_input_type", "inference_output_type"):
            value = {"int8": tf.int8, "uint8": tf.uint8}[value]
        setattr(converter, name, value)
