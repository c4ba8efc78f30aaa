"""MCT XQuant for Keras models (vsq.frameworks.mct_xquant does the rest): the report, folded for the
configuration's platform, and the layers named by the user's Keras layers (MCT's wrappers,
`keras_quantization_wrapper_3`, carry MCT's node name in `.layer`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from vsq.frameworks.mct_xquant import explain_with, user_layers
from vsq.core.layers import BATCH_IMAGES, MAX_REPRESENTATIVE_IMAGES, MAX_VALIDATION_IMAGES, Explanation, Layer, Similarity


def explain(float_model, fake_quant_model, representative_batches: Iterable[np.ndarray],
            validation_batches: Iterable[np.ndarray], report_dir: Path, *, target_platform: str = "imx500",
            max_representative_images: int | None = MAX_REPRESENTATIVE_IMAGES,
            max_validation_images: int | None = MAX_VALIDATION_IMAGES,
            batch_images: int = BATCH_IMAGES) -> Explanation:
    """XQuant of MCT's quantized Keras model (in memory from PTQ, or reloaded with
    mct_quantizers.keras_load_quantized_model: both give the same figures) against the user's Keras model;
    target_platform: the MCT platform it was quantized for (XQuant folds the float model as PTQ did)."""
    return explain_with(
        lambda representative, validation, folder: _xquant_report(float_model, fake_quant_model, representative,
                                                                  validation, folder, target_platform),
        lambda report: _layers(float_model, fake_quant_model, report),
        representative_batches, validation_batches, report_dir, max_representative_images=max_representative_images,
        max_validation_images=max_validation_images, batch_images=batch_images)


def _xquant_report(float_model, fake_quant_model, representative, validation, report_dir: Path, platform: str) -> dict:
    """MCT's xquant_report_keras_experimental, but folding the float model for `platform`: MCT 2.6.1's
    facade always folds for its default platform (imx500), which is not what a tflite or qnnpack model
    was quantized for. Logging is left to _contained_mct_logging (the facade's set_log_file and shutdown)."""
    from model_compression_toolkit.logger import Logger
    from model_compression_toolkit.target_platform_capabilities.targetplatform2framework.attach2keras import (
        AttachTpcToKeras,
    )
    from model_compression_toolkit.xquant import XQuantConfig
    from model_compression_toolkit.xquant.keras.core_report_generator import core_report_generator
    from model_compression_toolkit.xquant.keras.keras_report_utils import KerasReportUtils

    from vsq.frameworks.mct import target_platform_capabilities

    Logger.set_log_file(log_folder=str(report_dir))
    utils = KerasReportUtils(str(report_dir))
    utils.model_folding_utils.fw_default_fqc = AttachTpcToKeras().attach(target_platform_capabilities(platform))
    return core_report_generator(
        float_model=float_model, quantized_model=fake_quant_model,
        repr_dataset=lambda: ([batch] for batch in representative),  # MCT's representative data: lists of inputs
        validation_dataset=lambda: (([batch],) for batch in validation),  # XQuant takes item[0] as the inputs
        fw_report_utils=utils, xquant_config=XQuantConfig(report_dir=str(report_dir)))


def _layers(float_model, fake_quant_model, report: dict) -> Iterable[Layer]:
    representative = report["intermediate_similarity_metrics_repr"]
    validation = report["intermediate_similarity_metrics_val"]
    user = {layer.name: (i, type(layer).__name__) for i, layer in enumerate(float_model.layers)}
    for wrapper in fake_quant_model.layers:  # the quantized model's order is topological
        if wrapper.name not in validation:
            continue
        mct_name = wrapper.layer.name
        names = user_layers(mct_name, user) or (mct_name,)
        index, kind = user.get(names[0], (None, type(wrapper.layer).__name__))
        yield Layer(names[0], kind, index, mct_name, wrapper.name, names[1:],
                    Similarity.from_xquant(representative[wrapper.name]),
                    Similarity.from_xquant(validation[wrapper.name]))
