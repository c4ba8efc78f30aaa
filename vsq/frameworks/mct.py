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
