"""Quantization with MCT (post-training, gradient-based, mixed precision) and MCT's exports, for Keras
models; vsq.frameworks.keras.explain is the other module that imports MCT (its XQuant).

The recipes (vsq.frameworks.keras.recipes: the default model and the variants) call these and wrap MCT's errors,
keeping its own message and naming the recipe.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from vsq.util import atomic
from vsq.errors import ExternalToolError

TPC_VERSION = "1.0"


def ptq(model, batches: Callable[[], Iterable[list]], platform: str):
    """MCT post-training quantization for a target platform; MCT's errors are left to the caller."""
    quantized, _info = _mct().ptq.keras_post_training_quantization(
        model, batches, target_platform_capabilities=target_platform_capabilities(platform)
    )
    return quantized


def export_int8_tflite(quantized_model, dest: Path) -> Path:
    """model_quantized.tflite: MCT's INT8 TFLite export, written atomically."""
    import model_compression_toolkit as mct

    try:
        with atomic.atomic_path(dest) as tmp:
            mct.exporter.keras_export_model(
                model=quantized_model,
                save_model_path=str(tmp),
                serialization_format=mct.exporter.KerasExportSerializationFormat.TFLITE,
                quantization_format=mct.exporter.QuantizationFormat.INT8,
            )
    except Exception as error:
        raise ExternalToolError("Model Compression Toolkit", f"exporting {dest.name}", error) from None
    return dest


def _mct():
    import model_compression_toolkit as mct

    logging.getLogger("Model Compression Toolkit").setLevel(logging.WARNING)
    return mct


def target_platform_capabilities(name: str):
    """MCT's target platform capabilities for imx500, tflite or qnnpack, made self-consistent.

    MCT 2.6.1's stock "tflite" platform gives quantization-preserving op sets (MaxPool, Reshape,
    ZeroPadding2D, ...) activation quantization too, a combination MCT itself then rejects
    ("An OpQuantizationConfig can't have both enable_activation_quantization and
    quantization_preserving enabled") on any model with such an op. A preserving op takes its
    input's quantization, so turning its own activation quantization off is what the platform
    means. Platforms without the contradiction come back unchanged.
    """
    tpc = _mct().get_target_platform_capabilities(tpc_version=TPC_VERSION, device_type=name)
    operator_sets = tuple(_consistent(op_set) for op_set in tpc.operator_set or ())
    if operator_sets == tuple(tpc.operator_set or ()):
        return tpc
    return tpc.model_copy(update={"operator_set": operator_sets})


def _consistent(op_set):
    options = op_set.qc_options
    if options is None or not any(
        config.quantization_preserving and config.enable_activation_quantization
        for config in options.quantization_configurations
    ):
        return op_set
    return op_set.model_copy(update={"qc_options": options.clone_and_edit(enable_activation_quantization=False)})


def gradient_post_training_quantize(model, batches: Callable[[], Iterable[list]], platform: str, epochs: int):
    """MCT GPTQ, without Hessian weighting: with it, GPTQ takes minutes on a CPU.

    The two Hessian options must be turned off together (sample attention needs the Hessian).
    """
    mct = _mct()
    gptq_config = mct.gptq.get_keras_gptq_config(
        n_epochs=epochs, use_hessian_based_weights=False, use_hessian_sample_attention=False
    )
    quantized, _info = mct.gptq.keras_gradient_post_training_quantization(
        model, batches, gptq_config=gptq_config, target_platform_capabilities=target_platform_capabilities(platform)
    )
    return quantized


def weights_memory_8bit(model, batches: Callable[[], Iterable[list]], platform: str) -> float:
    """Weights memory of the model quantized with the platform's default (8-bit) weights, in bytes."""
    mct = _mct()
    usage = mct.core.keras_resource_utilization_data(
        model, batches, target_platform_capabilities=target_platform_capabilities(platform))
    return float(usage.weights_memory)


def mixed_precision_quantize(model, batches: Callable[[], Iterable[list]], platform: str, weights_memory: float,
                             num_images: int):
    """MCT PTQ with mixed-precision weights within `weights_memory` bytes.

    num_images: images used to score each bit-width (MCT's default is 32; fewer when the
    calibration set is smaller, or MCT warns that it cannot find them).
    """
    mct = _mct()
    core_config = mct.core.CoreConfig(
        mixed_precision_config=mct.core.MixedPrecisionQuantizationConfig(num_of_images=num_images)
    )
    with _stdout_to_devnull(), warnings.catch_warnings():  # PuLP's CBC solver logs to file descriptor 1
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp\b")  # PuLP 4.0 notices to MCT
        quantized, _info = mct.ptq.keras_post_training_quantization(
            model, batches, target_resource_utilization=mct.core.ResourceUtilization(weights_memory=weights_memory),
            core_config=core_config, target_platform_capabilities=target_platform_capabilities(platform),
        )
    return quantized


@contextmanager
def _stdout_to_devnull():
    """Silence a subprocess that inherits stdout (pytest -s would show it), restoring fd 1 after."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def export_keras(quantized_model, dest: Path) -> Path:
    """MCT's Keras export (.keras with its quantizers), the IMX500 converter's input; written atomically."""
    import model_compression_toolkit as mct

    try:
        with atomic.atomic_path(dest) as tmp:  # keeps the .keras suffix, which Keras' saver requires
            mct.exporter.keras_export_model(
                model=quantized_model,
                save_model_path=str(tmp),
                serialization_format=mct.exporter.KerasExportSerializationFormat.KERAS,
            )
    except Exception as error:
        raise ExternalToolError("Model Compression Toolkit", f"exporting {dest.name}", error) from None
    return dest
