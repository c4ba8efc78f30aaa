"""Recipe options for a PyTorch model (.venv-torch): MCT's options of a variant and of the default recipe reach
MCT's PyTorch calls and change the ONNX file; GPTQ's and mixed precision's settings are passed as written."""

import hashlib

import pytest
import torch

from test_pytorch_framework import colour_model, config, project  # noqa: F401 (project: the fixture)
from vsq.configuration.config import Variant
from vsq.pipeline.job import prepare


@pytest.fixture
def quantize(project):
    """quantize(variant) -> the SHA-256 of the ONNX file MCT exports for it on the tiny project."""
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.pytorch.recipes import export_onnx
    from vsq.frameworks.pytorch.recipes import quantize as quantize_recipe

    job = prepare(config(project))
    batches = decode_calibration(job).iterate

    def digest(variant: Variant) -> str:
        quantized = quantize_recipe(variant, colour_model(), batches, job.config)
        path = export_onnx(quantized, job.config.output_dir / f"model_{variant.name}.onnx", batches)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return digest


def test_an_mct_option_changes_the_onnx_file(quantize):
    plain = quantize(Variant("plain", "mct_ptq"))
    assert plain == quantize(Variant("again", "mct_ptq", options={"weights_error_method": "MSE"}))  # MCT's default
    assert plain != quantize(Variant("noclipping", "mct_ptq", options={"weights_error_method": "NOCLIPPING",
                                                                       "activation_error_method": "NOCLIPPING"}))


def test_gptq_and_mixed_precision_take_their_options(project):
    from vsq.errors import ExternalToolError
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.pytorch.recipes import quantize as quantize_recipe

    job = prepare(config(project, variants=[{"kind": "mct_gptq", "options": {"n_epochs": 1}}],
                         quantization={"options": {"z_threshold": 16}}))
    assert job.config.variants[0].options == {"n_epochs": 1} and job.config.quantization.options == {"z_threshold": 16}
    batches = decode_calibration(job).iterate
    assert isinstance(quantize_recipe(job.config.variants[0], colour_model(), batches, job.config), torch.nn.Module)
    with pytest.raises(ExternalToolError, match="cannot be quantized to meet"):  # the budget in bytes reached MCT
        quantize_recipe(Variant("mp", "mct_mixed_precision", options={"weights_memory": 1}), colour_model(), batches,
                        job.config)
