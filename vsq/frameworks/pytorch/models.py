"""PyTorch model loading: the architecture's nn.Module filled from a state_dict read with
torch.load(weights_only=True) (tensors only: a file that would unpickle code is refused; both bounded before
they are allocated: vsq.frameworks.pytorch.weights), its interface checked by one forward pass, and its float
predictor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.configuration.config import Config
from vsq.frameworks.pytorch.architecture import resolve
from vsq.frameworks.pytorch.builders import builder_arguments, check_builder
from vsq.frameworks.pytorch.weights import WeightsError, build_with, first_line, read_state_dict

KEY = "source_pytorch_model"


def load_pytorch_model(config: Config):
    """The float model in eval mode; ConfigError naming what is wrong (the weights, the architecture)."""
    shown = config.shown(KEY)
    try:
        weights = read_state_dict(config.source_pytorch_model)
    except WeightsError as error:
        raise config.error(KEY, f"{shown} {error}; save the model's state_dict: torch.save(model.state_dict(), "
                           "path)") from None
    architecture, granted = config.pytorch_architecture, config.allow_unsafe_model_code
    entry_point, arguments = architecture.entry_point, architecture.arguments
    try:
        builder = resolve(entry_point, config.file.parent)
        if not granted:
            check_builder(builder, entry_point)
    except (Exception, SystemExit) as error:  # a granted module's own sys.exit() too
        raise _build_error(config, entry_point, error) from None
    if not granted:
        try:
            arguments = builder_arguments(builder, entry_point, arguments)
        except ValueError as error:
            raise config.error("pytorch_architecture.arguments", str(error)) from None
    try:
        model = build_with(builder, arguments, weights)
    except WeightsError as error:
        raise config.error(KEY, f"{shown} does not fit the architecture {entry_point}: {error}; give the weights "
                           "saved from that architecture") from None
    except (Exception, SystemExit) as error:
        raise _build_error(config, entry_point, error) from None
    return model.eval()


def _build_error(config: Config, entry_point: str, error: Exception):
    return config.error("pytorch_architecture.entry_point", f"{entry_point} did not build the model: "
                        f"{type(error).__name__}: {first_line(error)}; check the entry point and its arguments")


def describe(model, config: Config):
    """ModelInfo of a PyTorch model at the configured size: one forward pass of a 3 x size x size image
    (PyTorch models keep no input shape); shapes are given as vsq feeds them, (batch, height, width, 3). A
    classifier gives (batch, classes); a detector edge-mdt-cl's multiclass_nms output (vsq.frameworks.pytorch.detector)."""
    import torch

    from vsq.core.model_info import ModelInfo
    from vsq.frameworks.pytorch.detector import is_nms_output, output_shapes

    size = config.input_tensor_size
    try:
        with torch.no_grad():
            output = model(torch.zeros(1, 3, size, size))
    except Exception as error:
        raise config.error("input_tensor_size", f"{size}: the model does not take 3x{size}x{size} images "
                           f"({config.shown(KEY)}): {type(error).__name__}: {first_line(error)}; set "
                           "input_tensor_size to the size the model was built for") from None
    if is_nms_output(output):
        return ModelInfo(((None, size, size, 3),), output_shapes(output))
    if not isinstance(output, torch.Tensor) or output.dim() != 2:
        raise config.error(KEY, f"{config.shown(KEY)}: the model gives {_shape_of(output)}, not one score per "
                           "class (batch, classes) nor edge-mdt-cl's multiclass_nms output (boxes, scores, labels, "
                           "n_valid); an image classifier with one output or a detector ending in that NMS is needed")
    return ModelInfo(((None, size, size, 3),), ((None, int(output.shape[1])),))


def predictor(model):
    """images (N, H, W, 3) float32 -> the model's scores (N, classes), or a detector's Detections
    (vsq.core.detections), in batches of 32, without gradients."""
    import torch

    from vsq.frameworks.pytorch.detector import as_numpy, empty, joined

    def predict(images: np.ndarray):
        out = []
        with torch.no_grad():
            for start in range(0, len(images), 32):
                batch = torch.from_numpy(np.ascontiguousarray(images[start:start + 32].transpose(0, 3, 1, 2)))
                out.append(as_numpy(model(batch)))
            if not out:  # no images (N, H, W, 3): the model's answer of none (empty Detections or scores (0, classes))
                return empty(as_numpy(model(torch.zeros((1, images.shape[3], *images.shape[1:3])))))
        return joined(out)

    return predict


def nchw(batches):
    """MCT's representative data for a PyTorch model: lists of NCHW float32 batches."""
    def data():
        return ([np.ascontiguousarray(batch.transpose(0, 3, 1, 2))] for batch in batches())

    return data


def _shape_of(output) -> str:
    if isinstance(output, (tuple, list)):
        return f"a {type(output).__name__} of {len(output)}"
    return f"a {type(output).__name__}" if not hasattr(output, "shape") else f"shape {tuple(output.shape)}"


def weights_path(config: Config) -> Path:
    return config.source_pytorch_model
