"""What both frameworks ask of MCT: its import (quiet), its target platforms made self-consistent, and
silencing a solver that writes to file descriptor 1."""

from __future__ import annotations

import logging

TPC_VERSION = "1.0"


def mct():
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
    tpc = mct().get_target_platform_capabilities(tpc_version=TPC_VERSION, device_type=name)
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


def stdout_to_devnull():
    """Silence a subprocess that inherits stdout (pytest -s would show it), restoring fd 1 after."""
    from vsq.util.descriptors import to_devnull

    return to_devnull(1)


def split_options(options: dict) -> tuple[dict, dict, dict]:
    """A recipe's options (vsq.configuration.recipes) as MCT's three objects take them: QuantizationConfig's,
    GPTQ's (get_keras_gptq_config / get_pytorch_gptq_config) and mixed precision's (ResourceUtilization's
    weights_memory and MixedPrecisionQuantizationConfig's)."""
    from vsq.configuration.recipes import kind_options

    quantization = set(kind_options("mct_ptq"))
    gptq = set(kind_options("mct_gptq")) - quantization
    parts: tuple[dict, dict, dict] = ({}, {}, {})
    for name, value in options.items():
        parts[0 if name in quantization else 1 if name in gptq else 2][name] = value
    return parts


def core_config(options: dict, mixed_precision: dict | None = None):
    """MCT's CoreConfig with the recipe's QuantizationConfig options (MCT's defaults for the others) and, for
    mixed precision, MixedPrecisionQuantizationConfig's."""
    toolkit = mct()
    written, _, _ = split_options(options)
    for name in ("activation_error_method", "weights_error_method"):
        if name in written:
            written[name] = toolkit.core.QuantizationErrorMethod[written[name]]
    extra = {}
    if mixed_precision is not None:
        extra["mixed_precision_config"] = toolkit.core.MixedPrecisionQuantizationConfig(**mixed_precision)
    return toolkit.core.CoreConfig(quantization_config=toolkit.core.QuantizationConfig(**written), **extra)


def gptq_settings(options: dict, epochs: int) -> dict:
    """GPTQ's keyword arguments: vsq's defaults (no Hessian: with it, GPTQ takes minutes on a CPU; the two
    Hessian options must be turned off together, sample attention needs the Hessian), then the recipe's."""
    _, written, _ = split_options(options)
    return {"n_epochs": epochs, "use_hessian_based_weights": False, "use_hessian_sample_attention": False, **written}


def mixed_precision_settings(options: dict, images: int) -> tuple[float | None, dict]:
    """Mixed precision's weights budget in bytes (None: the variant's fraction of the 8-bit size) and
    MixedPrecisionQuantizationConfig's arguments (num_of_images: `images` unless written)."""
    _, _, written = split_options(options)
    budget = written.pop("weights_memory", None)
    return budget, {"num_of_images": images, **written}
