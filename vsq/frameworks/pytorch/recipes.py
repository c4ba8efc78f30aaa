"""Quantization recipes of a PyTorch model with MCT (post-training, gradient-based, mixed precision) and MCT's
ONNX export in the MCTQ format (mct-quantizers' custom operators: what Sony's imxconv-pt reads).

A recipe writes model_<name>.onnx; the default recipe (named "quantized") is model_quantized.onnx. The
TensorFlow converter's kinds (tf_*) are Keras-only: the configuration refuses them for a PyTorch model.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from vsq.configuration.config import Config, Variant
from vsq.errors import ExternalToolError
from vsq.frameworks.mct import (core_config, gptq_settings, mct, mixed_precision_settings, stdout_to_devnull,
                                target_platform_capabilities)
from vsq.frameworks.pytorch.models import nchw
from vsq.util import atomic

MP_SCORE_IMAGES = 32  # MCT's default number of images to score bit-widths in mixed precision


def file_name(recipe: Variant) -> str:
    return f"model_{recipe.name}.onnx"


def quantize(recipe: Variant, model, batches, config: Config):
    """MCT's quantized (fake-quantized) PyTorch model of a recipe; ExternalToolError with MCT's words."""
    platform = recipe.target_platform or config.target_platform
    tpc = target_platform_capabilities(platform, recipe.options.get("weights_n_bits"))  # None: the platform's own
    data, toolkit = nchw(batches), mct()
    try:
        if recipe.kind == "mct_ptq":
            quantized, _ = toolkit.ptq.pytorch_post_training_quantization(
                model, data, target_platform_capabilities=tpc, core_config=core_config(recipe.options))
        elif recipe.kind == "mct_gptq":
            gptq = toolkit.gptq.get_pytorch_gptq_config(**gptq_settings(recipe.options, recipe.epochs))
            quantized, _ = toolkit.gptq.pytorch_gradient_post_training_quantization(
                model, data, gptq_config=gptq, target_platform_capabilities=tpc, core_config=core_config(recipe.options))
        else:
            quantized = _mixed_precision(toolkit, recipe, model, data, tpc, config)
    except Exception as error:  # MCT's own message is what the user needs
        what = "model_quantized.onnx" if recipe.name == "quantized" else f"variant {recipe.name}"
        raise ExternalToolError("Model Compression Toolkit", f"building {what} ({recipe.kind}, target platform "
                                f"{platform})", error) from None
    return quantized.eval()


def _mixed_precision(toolkit, recipe: Variant, model, data, tpc, config: Config):
    images = min(MP_SCORE_IMAGES, config.batch_size * config.iteration_count)
    weights_memory, settings = mixed_precision_settings(recipe.options, images)
    if weights_memory is None:  # the fraction of the 8-bit size
        full = toolkit.core.pytorch_resource_utilization_data(model, data, target_platform_capabilities=tpc)
        weights_memory = recipe.weights_memory_fraction * full.weights_memory
    core = core_config(recipe.options, settings)
    budget = toolkit.core.ResourceUtilization(weights_memory=weights_memory)
    with stdout_to_devnull(), warnings.catch_warnings():  # PuLP's solver logs to file descriptor 1
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp\b")
        quantized, _ = toolkit.ptq.pytorch_post_training_quantization(
            model, data, target_resource_utilization=budget, core_config=core, target_platform_capabilities=tpc)
    return quantized


def export_onnx(quantized, dest: Path, batches) -> Path:
    """MCT's ONNX export (MCTQ) of a quantized model, written atomically."""
    toolkit = mct()
    try:
        with atomic.atomic_path(dest) as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's tracer warnings
            toolkit.exporter.pytorch_export_model(
                model=quantized, save_model_path=str(tmp), repr_dataset=nchw(batches),
                serialization_format=toolkit.exporter.PytorchExportSerializationFormat.ONNX,
                quantization_format=toolkit.exporter.QuantizationFormat.MCTQ)
    except Exception as error:
        raise ExternalToolError("Model Compression Toolkit", f"exporting {dest.name}", error) from None
    return dest
