"""MCT XQuant for PyTorch models (vsq.frameworks.mct_xquant does the rest): the report on NCHW batches,
folded for the configuration's platform, and the layers named by the user's modules. XQuant names them by
MCT's node names, torch.fx's names of the modules ("features.0" -> "features_0", "0" -> "_0") plus what
MCT did to them ("_0_bn": conv 0 with its batch norm folded in)."""

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
    """XQuant of MCT's quantized PyTorch model against the user's float model (batches NHWC, as vsq feeds)."""
    return explain_with(
        lambda representative, validation, folder: _report(float_model, fake_quant_model, representative, validation,
                                                           folder, target_platform),
        lambda report: _layers(float_model, report),
        representative_batches, validation_batches, report_dir, max_representative_images=max_representative_images,
        max_validation_images=max_validation_images, batch_images=batch_images)


def _report(float_model, fake_quant_model, representative, validation, report_dir: Path, platform: str) -> dict:
    """MCT's xquant_report_pytorch_experimental, folding for `platform` (its facade always folds for imx500)."""
    from model_compression_toolkit.logger import Logger
    from model_compression_toolkit.target_platform_capabilities.targetplatform2framework.attach2pytorch import (
        AttachTpcToPytorch,
    )
    from model_compression_toolkit.xquant import XQuantConfig
    from model_compression_toolkit.xquant.pytorch.core_report_generator import core_report_generator
    from model_compression_toolkit.xquant.pytorch.pytorch_report_utils import PytorchReportUtils

    from vsq.frameworks.mct import target_platform_capabilities

    def nchw(batches):
        return [np.ascontiguousarray(batch.transpose(0, 3, 1, 2)) for batch in batches]

    representative, validation = nchw(representative), nchw(validation)
    Logger.set_log_file(log_folder=str(report_dir))
    utils = PytorchReportUtils(str(report_dir))
    utils.model_folding_utils.fw_default_fqc = AttachTpcToPytorch().attach(target_platform_capabilities(platform))
    return core_report_generator(
        float_model=float_model, quantized_model=fake_quant_model,
        repr_dataset=lambda: ([batch] for batch in representative),
        validation_dataset=lambda: (([batch],) for batch in validation),
        fw_report_utils=utils, xquant_config=XQuantConfig(report_dir=str(report_dir)))


def fx_name(qualified: str) -> str:
    """torch.fx's node name of a module: dots become underscores, a leading digit gets one ("0" -> "_0")."""
    name = qualified.replace(".", "_")
    return f"_{name}" if name[:1].isdigit() else name


def _layers(float_model, report: dict) -> Iterable[Layer]:
    representative = report["intermediate_similarity_metrics_repr"]
    validation = report["intermediate_similarity_metrics_val"]
    modules = [(name, module) for name, module in float_model.named_modules() if name]
    by_fx = {fx_name(name): (i, name, type(module).__name__) for i, (name, module) in enumerate(modules)}
    for mct_name in validation:  # XQuant lists them in the quantized model's (topological) order
        found = user_layers(mct_name, by_fx) or (mct_name,)
        index, name, kind = by_fx.get(found[0], (None, mct_name, "unknown"))
        merged = tuple(by_fx[other][1] for other in found[1:] if other in by_fx)
        yield Layer(name, kind, index, mct_name, mct_name, merged, Similarity.from_xquant(representative[mct_name]),
                    Similarity.from_xquant(validation[mct_name]))
