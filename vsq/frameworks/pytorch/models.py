"""PyTorch model loading: the architecture's nn.Module filled from a state_dict read with
torch.load(weights_only=True) (tensors only: a file that would unpickle code is refused), its interface
checked by one forward pass, and its float predictor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.configuration.config import Config
from vsq.frameworks.pytorch.architecture import check_builder, resolve

KEY = "source_pytorch_model"


def load_pytorch_model(config: Config):
    """The float model in eval mode; ConfigError naming what is wrong (the weights, the architecture)."""
    import torch

    shown = config.shown(KEY)
    try:
        weights = torch.load(config.source_pytorch_model, map_location="cpu", weights_only=True)
    except Exception as error:  # pickled code (refused by weights_only), a truncated or foreign file
        raise config.error(KEY, f"{shown} cannot be read as PyTorch weights with torch.load(weights_only=True): "
                           f"{_first_line(error)}; save the model's state_dict: torch.save(model.state_dict(), "
                           "path)") from None
    if isinstance(weights, dict) and isinstance(weights.get("state_dict"), dict):
        weights = weights["state_dict"]  # a checkpoint that keeps its state_dict under that name
    if not isinstance(weights, dict) or not all(isinstance(value, torch.Tensor) for value in weights.values()):
        raise config.error(KEY, f"{shown} holds no state_dict (a mapping of names to tensors); save "
                           "torch.save(model.state_dict(), path)")
    architecture = config.pytorch_architecture
    try:
        builder = resolve(architecture.entry_point, config.file.parent)
        if not config.allow_unsafe_model_code:
            check_builder(builder, architecture.entry_point)
        model = builder(**architecture.arguments)
    except Exception as error:
        raise config.error("pytorch_architecture.entry_point", f"{architecture.entry_point} did not build the model: "
                           f"{type(error).__name__}: {_first_line(error)}; check the entry point and its "
                           "arguments") from None
    if not isinstance(model, torch.nn.Module):
        raise config.error("pytorch_architecture.entry_point", f"{architecture.entry_point} returned a "
                           f"{type(model).__name__}, not a torch.nn.Module")
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise config.error(KEY, f"{shown} does not fit the architecture {architecture.entry_point}: "
                           f"{_mismatch(model.state_dict(), weights) or _first_line(error)}; give the weights saved "
                           "from that architecture") from None
    return model.eval()


def _mismatch(expected: dict, weights: dict) -> str:
    """The first way a state_dict does not fit the architecture's, named by the architecture's keys (the file's
    own names are not repeated: only counted)."""
    for name, tensor in expected.items():
        if name not in weights:
            return f"the architecture's {name} is not in the file"
        if tuple(weights[name].shape) != tuple(tensor.shape):
            return (f"{name} has shape {tuple(weights[name].shape)} in the file and {tuple(tensor.shape)} in the "
                    "architecture")
    extra = sum(name not in expected for name in weights)
    return f"the file has {extra} tensors the architecture does not" if extra else ""


def describe(model, config: Config):
    """ModelInfo of a PyTorch model at the configured size: one forward pass of a 3 x size x size image
    (PyTorch models keep no input shape); shapes are given as vsq feeds them, (batch, height, width, 3)."""
    import torch

    from vsq.frameworks.keras.models import ModelInfo

    size = config.input_tensor_size
    try:
        with torch.no_grad():
            output = model(torch.zeros(1, 3, size, size))
    except Exception as error:
        raise config.error("input_tensor_size", f"{size}: the model does not take 3x{size}x{size} images "
                           f"({config.shown(KEY)}): {type(error).__name__}: {_first_line(error)}; set "
                           "input_tensor_size to the size the model was built for") from None
    if not isinstance(output, torch.Tensor) or output.dim() != 2:
        raise config.error(KEY, f"{config.shown(KEY)}: the model gives {_shape_of(output)}, not one score per "
                           "class (batch, classes); an image classifier with one output is needed")
    return ModelInfo(((None, size, size, 3),), ((None, int(output.shape[1])),))


def predictor(model):
    """images (N, H, W, 3) float32 -> the model's scores (N, classes), in batches of 32, without gradients."""
    import torch

    def predict(images: np.ndarray) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(images), 32):
                batch = torch.from_numpy(np.ascontiguousarray(images[start:start + 32].transpose(0, 3, 1, 2)))
                out.append(model(batch).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    return predict


def nchw(batches):
    """MCT's representative data for a PyTorch model: lists of NCHW float32 batches."""
    def data():
        return ([np.ascontiguousarray(batch.transpose(0, 3, 1, 2))] for batch in batches())

    return data


def _shape_of(output) -> str:
    return f"a {type(output).__name__}" if not hasattr(output, "shape") else f"shape {tuple(output.shape)}"


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def weights_path(config: Config) -> Path:
    return config.source_pytorch_model
