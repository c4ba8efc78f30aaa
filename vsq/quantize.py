"""Post-training quantization with MCT; the only module that imports model_compression_toolkit."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

from vsq import atomic
from vsq.errors import ExternalToolError

TPC_VERSION = "1.0"


def mct_version() -> str:
    import model_compression_toolkit as mct

    return mct.__version__


def post_training_quantize(model, batches: Callable[[], Iterable[list]], target_platform: str):
    """MCT PTQ of a Keras model; `batches()` yields lists of numpy batches (one item per iteration)."""
    import model_compression_toolkit as mct

    logging.getLogger("Model Compression Toolkit").setLevel(logging.WARNING)
    try:
        tpc = mct.get_target_platform_capabilities(tpc_version=TPC_VERSION, device_type=target_platform)
        quantized, _info = mct.ptq.keras_post_training_quantization(
            model, batches, target_platform_capabilities=tpc
        )
    except Exception as error:  # MCT's own message is what the user needs (spec)
        raise ExternalToolError("Model Compression Toolkit", "quantizing the model", error) from None
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
