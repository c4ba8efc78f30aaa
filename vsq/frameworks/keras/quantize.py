"""Quantization with MCT (post-training, gradient-based, mixed precision) and MCT's exports, for Keras
models (the platforms: vsq.frameworks.mct); vsq.frameworks.keras.xquant is the other module that imports MCT.

The recipes (vsq.frameworks.keras.recipes: the default model and the variants) call these and wrap MCT's errors,
keeping its own message and naming the recipe.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable, Iterable

from vsq.errors import ExternalToolError
from vsq.frameworks.mct import core_config, gptq_settings, mixed_precision_settings
from vsq.frameworks.mct import mct as _mct
from vsq.frameworks.mct import stdout_to_devnull as _stdout_to_devnull
from vsq.util.descriptors import to_devnull
from vsq.frameworks.mct import target_platform_capabilities  # noqa: F401 (the recipes' and tests' name)
from vsq.util import atomic


def ptq(model, batches: Callable[[], Iterable[list]], platform: str, options: dict | None = None):
    """MCT post-training quantization for a target platform with a recipe's QuantizationConfig options; MCT's
    errors are left to the caller."""
    quantized, _info = _mct().ptq.keras_post_training_quantization(
        model, batches, target_platform_capabilities=target_platform_capabilities(platform, _bits(options)),
        core_config=core_config(options or {}),
    )
    return quantized


def _bits(options: dict | None) -> int | None:
    """The recipe's weights_n_bits: the derived platform's kernel width (None: the platform's own)."""
    return (options or {}).get("weights_n_bits")


def export_int8_tflite(fake_quant_model, dest: Path) -> Path:
    """model_quantized.tflite: MCT's INT8 TFLite export, written atomically."""
    import model_compression_toolkit as mct

    try:
        with atomic.atomic_path(dest) as tmp, to_devnull(1, 2):  # the MLIR converter's op counts
            mct.exporter.keras_export_model(
                model=fake_quant_model,
                save_model_path=str(tmp),
                serialization_format=mct.exporter.KerasExportSerializationFormat.TFLITE,
                quantization_format=mct.exporter.QuantizationFormat.INT8,
            )
    except Exception as error:
        raise ExternalToolError("Model Compression Toolkit", f"exporting {dest.name}", error) from None
    return dest


def gradient_post_training_quantize(model, batches: Callable[[], Iterable[list]], platform: str, epochs: int,
                                    options: dict | None = None):
    """MCT GPTQ, by default without Hessian weighting (vsq.frameworks.mct.gptq_settings), with a recipe's options."""
    mct = _mct()
    gptq_config = mct.gptq.get_keras_gptq_config(**gptq_settings(options or {}, epochs))
    quantized, _info = mct.gptq.keras_gradient_post_training_quantization(
        model, batches, gptq_config=gptq_config,
        target_platform_capabilities=target_platform_capabilities(platform, _bits(options)),
        core_config=core_config(options or {}),
    )
    return quantized


def weights_memory_8bit(model, batches: Callable[[], Iterable[list]], platform: str) -> float:
    """Weights memory of the model quantized with the platform's default (8-bit) weights, in bytes."""
    mct = _mct()
    usage = mct.core.keras_resource_utilization_data(
        model, batches, target_platform_capabilities=target_platform_capabilities(platform))
    return float(usage.weights_memory)


def mixed_precision_quantize(model, batches: Callable[[], Iterable[list]], platform: str, weights_memory: float,
                             num_images: int, options: dict | None = None):
    """MCT PTQ with mixed-precision weights within `weights_memory` bytes.

    num_images: images used to score each bit-width (MCT's default is 32; fewer when the
    calibration set is smaller, or MCT warns that it cannot find them). options: the recipe's (a weights_memory
    there replaces `weights_memory`).
    """
    mct = _mct()
    budget, settings = mixed_precision_settings(options or {}, num_images)
    weights_memory = weights_memory if budget is None else budget
    core = core_config(options or {}, settings)
    with _stdout_to_devnull(), warnings.catch_warnings():  # PuLP's CBC solver logs to file descriptor 1
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp\b")  # PuLP 4.0 notices to MCT
        quantized, _info = mct.ptq.keras_post_training_quantization(
            model, batches, target_resource_utilization=mct.core.ResourceUtilization(weights_memory=weights_memory),
            core_config=core, target_platform_capabilities=target_platform_capabilities(platform),
        )
    return quantized


def export_keras(fake_quant_model, dest: Path) -> Path:
    """MCT's Keras export (.keras with its quantizers), the IMX500 converter's input; written atomically."""
    import model_compression_toolkit as mct

    try:
        with atomic.atomic_path(dest) as tmp:  # keeps the .keras suffix, which Keras' saver requires
            mct.exporter.keras_export_model(
                model=fake_quant_model,
                save_model_path=str(tmp),
                serialization_format=mct.exporter.KerasExportSerializationFormat.KERAS,
            )
    except Exception as error:
        raise ExternalToolError("Model Compression Toolkit", f"exporting {dest.name}", error) from None
    return dest
