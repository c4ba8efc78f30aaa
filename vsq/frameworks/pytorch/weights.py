"""A PyTorch state_dict and the architecture it goes into, each bounded before it is allocated.

The weights file is untrusted: a `.pt` is a zip archive, and one deflated entry of zeros turns 510 KB into 512 MB
(torch.save stores its entries uncompressed), so an archive with a compressed entry, or one whose entries add
up to more than the file, is refused before torch.load reads it (with weights_only=True: tensors, no code).
The architecture's arguments are untrusted too (["Linear", 60000, 60000] is 14.4 GB): the builder runs on
PyTorch's meta device, which allocates nothing, every shape is compared with the state_dict, and the model takes
the loaded tensors themselves (load_state_dict(assign=True)), so the model costs what the weights file holds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# Buffers a module computes in its constructor and does not save (non-persistent: timm's relative position
# indexes) need a second build on the CPU; its size beyond the weights is bounded by this.
MAX_UNSAVED_BYTES = 256 << 20


class WeightsError(ValueError):
    """The weights file cannot be read safely, or does not fit the architecture; the message is one line."""


def check_archive(path: Path) -> None:
    """WeightsError when a zip-format weights file holds a compressed entry or entries larger than the file."""
    if not zipfile.is_zipfile(path):
        return  # torch's legacy format: tensors stored as they are
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise WeightsError(f"is not a readable archive ({type(error).__name__})") from None
    compressed = [entry for entry in entries if entry.compress_type != zipfile.ZIP_STORED]
    if compressed:
        raise WeightsError(f"holds a compressed entry ({len(compressed)} of {len(entries)}); torch.save stores its "
                           "entries uncompressed, so this file was made otherwise")
    total = sum(entry.file_size for entry in entries)
    if total > size:
        raise WeightsError(f"says its entries hold {total:,} bytes, more than the file's {size:,}")


def read_state_dict(path: Path) -> dict:
    """The state_dict of a weights file (also one kept under "state_dict" in a checkpoint); WeightsError."""
    import torch

    check_archive(path)
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickled code (refused by weights_only), a truncated or foreign file
        raise WeightsError(f"cannot be read as PyTorch weights with torch.load(weights_only=True): "
                           f"{first_line(error)}") from None
    if isinstance(weights, dict) and isinstance(weights.get("state_dict"), dict):
        weights = weights["state_dict"]
    if not isinstance(weights, dict) or not all(isinstance(value, torch.Tensor) for value in weights.values()):
        raise WeightsError("holds no state_dict (a mapping of names to tensors)")
    return weights


def build_with(builder, arguments: dict, weights: dict):
    """The module builder(**arguments) makes, holding `weights`. Built on the meta device first; a builder that
    reads tensor values while it builds (torchvision's RegNets) runs on the CPU with every parameter and buffer
    moved to the meta device as it is registered. WeightsError when a shape differs; anything the builder raises
    goes through; TypeError when it makes no torch.nn.Module."""
    import torch

    try:
        with torch.device("meta"):
            skeleton = builder(**arguments)
    except (NotImplementedError, RuntimeError):  # "Cannot copy out of meta tensor": a value was read
        with _registered_on_meta():
            skeleton = builder(**arguments)
    if not isinstance(skeleton, torch.nn.Module):
        raise TypeError(f"returned a {type(skeleton).__name__}, not a torch.nn.Module")
    expected = skeleton.state_dict()
    compare(expected, weights)
    loaded = {name: tensor.to(expected[name].dtype) for name, tensor in weights.items()}
    skeleton.load_state_dict(loaded, strict=True, assign=True)
    unsaved = [tensor for tensor in (*skeleton.parameters(), *skeleton.buffers()) if tensor.is_meta]
    if not unsaved:
        return skeleton
    extra = sum(tensor.numel() * tensor.element_size() for tensor in unsaved)
    if extra > MAX_UNSAVED_BYTES:
        raise WeightsError(f"the architecture computes {extra:,} bytes of buffers it does not save, more than "
                           f"{MAX_UNSAVED_BYTES:,}")
    model = builder(**arguments)  # its size is now known: the weights' and `extra`
    model.load_state_dict(weights, strict=True)
    return model


def compare(expected: dict, weights: dict) -> None:
    """WeightsError naming the first name or shape in which the weights differ from the architecture's."""
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    if missing:
        raise WeightsError(f"lacks {_name(missing[0])} of the architecture{_more(missing)}")
    if unexpected:
        raise WeightsError(f"has {_name(unexpected[0])}, which the architecture lacks{_more(unexpected)}")
    for name, tensor in expected.items():
        if tuple(tensor.shape) != tuple(weights[name].shape):
            raise WeightsError(f"has {_name(name)} of shape {tuple(weights[name].shape)}, the architecture "
                               f"{tuple(tensor.shape)}")


class _registered_on_meta:
    """Every parameter and buffer registered meanwhile moves to the meta device (the builder's own computations
    stay on the CPU)."""

    def __enter__(self):
        import torch
        from torch.nn.modules import module

        def to_meta(owner, name, tensor):
            if tensor is None or tensor.is_meta:
                return None
            moved = tensor.to("meta")
            return torch.nn.Parameter(moved, tensor.requires_grad) if isinstance(tensor, torch.nn.Parameter) else moved

        self.handles = [module.register_module_parameter_registration_hook(to_meta),
                        module.register_module_buffer_registration_hook(to_meta)]

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        return False


def _name(name: str) -> str:
    return repr(name[:120])


def _more(names: list) -> str:
    return f" (and {len(names) - 1} more)" if len(names) > 1 else ""


def first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
