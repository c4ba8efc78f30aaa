"""What both frameworks ask of MCT: its import (quiet), its target platforms made self-consistent, and
silencing a solver that writes to file descriptor 1."""

from __future__ import annotations

import logging

TPC_VERSION = "1.0"
KERNEL = "kernel_attr"  # MCT's name of a convolution's or Dense's kernel in a target platform's op sets


def mct():
    import model_compression_toolkit as mct

    logging.getLogger("Model Compression Toolkit").setLevel(logging.WARNING)
    return mct


def target_platform_capabilities(name: str, weights_n_bits: int | None = None):
    """MCT's target platform capabilities for imx500, tflite or qnnpack, made self-consistent; with weights_n_bits,
    derived to quantize every kernel to that width (vsq.configuration.recipes.WEIGHTS_BITS says where it is one
    of the platform's own).

    MCT 2.6.1's stock "tflite" platform gives quantization-preserving op sets (MaxPool, Reshape,
    ZeroPadding2D, ...) activation quantization too, a combination MCT itself then rejects
    ("An OpQuantizationConfig can't have both enable_activation_quantization and
    quantization_preserving enabled") on any model with such an op. A preserving op takes its
    input's quantization, so turning its own activation quantization off is what the platform
    means. Platforms without the contradiction come back unchanged.
    """
    tpc = mct().get_target_platform_capabilities(tpc_version=TPC_VERSION, device_type=name)
    operator_sets = tuple(_kernel_bits(_consistent(op_set), weights_n_bits) for op_set in tpc.operator_set or ())
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


def kernel_bit_widths(name: str) -> tuple[int, ...]:
    """The kernel weight widths the platform's op sets offer (MCT's imx500: 2, 4, 8; tflite: 8; qnnpack: none)."""
    tpc = mct().get_target_platform_capabilities(tpc_version=TPC_VERSION, device_type=name)
    return tuple(sorted({config.attr_weights_configs_mapping[KERNEL].weights_n_bits for op_set in tpc.operator_set or ()
                         if op_set.qc_options is not None for config in op_set.qc_options.quantization_configurations
                         if KERNEL in config.attr_weights_configs_mapping}))


def _kernel_bits(op_set, bits: int | None):
    """The op set with only its kernel configuration of `bits` (MCT's imx500 offers 8, 4 and 2 bits as mixed
    precision's candidates; PTQ takes the base one, so the one left is the one used); unchanged when bits is None
    or the op set has no kernel."""
    options = op_set.qc_options
    if bits is None or options is None:
        return op_set
    chosen = [config for config in options.quantization_configurations
              if KERNEL in config.attr_weights_configs_mapping
              and config.attr_weights_configs_mapping[KERNEL].weights_n_bits == bits]
    if not chosen:
        return op_set
    return op_set.model_copy(update={"qc_options": options.model_copy(
        update={"quantization_configurations": (chosen[0],), "base_config": chosen[0]})})


def stdout_to_devnull():
    """Silence a subprocess that inherits stdout (pytest -s would show it), restoring fd 1 after."""
    from vsq.util.descriptors import to_devnull

    return to_devnull(1)


TPC_OPTIONS = ("weights_n_bits",)


def split_options(options: dict) -> tuple[dict, dict, dict]:
    """A recipe's options (vsq.configuration.recipes) as MCT's three objects take them: QuantizationConfig's,
    GPTQ's (get_keras_gptq_config / get_pytorch_gptq_config) and mixed precision's (ResourceUtilization's
    weights_memory and MixedPrecisionQuantizationConfig's)."""
    from vsq.configuration.recipes import kind_options

    quantization = set(kind_options("mct_ptq"))
    gptq = set(kind_options("mct_gptq")) - quantization
    parts: tuple[dict, dict, dict] = ({}, {}, {})
    for name, value in options.items():
        if name not in TPC_OPTIONS:  # those choose the target platform, not a config
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
