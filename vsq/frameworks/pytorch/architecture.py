"""Which nn.Module a PyTorch configuration's weights go into: an entry point `module:callable` and its
keyword arguments (`pytorch_architecture`).

The entry point is code the configuration picks, with arguments it writes, so only the model builders of
vsq.frameworks.pytorch.builders run without a grant, with the arguments it allows. Anything else (another
module such as `subprocess:run`, a `.py` file that came with the configuration) runs only when the run grants it
(--allow-unsafe-model-code NAME; vsq.configuration.grants).
`vsq.frameworks.pytorch.architecture:sequential` builds an nn.Sequential from data alone: layers of an
allow-list of torch.nn classes with JSON arguments, so a simple CNN needs no code at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path

# torch.nn classes `sequential` may build: layers without code of their own, each MCT and the IMX500
# converter handle.
LAYERS = ("Conv2d", "BatchNorm2d", "ReLU", "ReLU6", "Hardswish", "Hardsigmoid", "Sigmoid", "SiLU", "Tanh",
          "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear", "Dropout", "Identity", "Softmax")
PLACEMENT = frozenset({"device", "dtype"})  # where and in which type a layer is allocated: vsq's to choose
MAX_LAYERS = 1000  # far above any classifier written as data; a list of a million layers is a memory bomb


def sequential(layers: list) -> "torch.nn.Sequential":  # noqa: F821
    """nn.Sequential of `layers`: each ["Conv2d", positional..., {keyword: value}] (the dict is optional)."""
    import torch

    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ValueError(f"layers must be a list of at most {MAX_LAYERS} layers")
    modules = []
    for number, spec in enumerate(layers):
        if not isinstance(spec, list) or not spec or spec[0] not in LAYERS:
            raise ValueError(f"layer {number} is {spec!r}; write [\"Conv2d\", 3, 16, 3, {{\"padding\": 1}}] with one of "
                             f"{', '.join(LAYERS)}")
        keywords = spec[-1] if len(spec) > 1 and isinstance(spec[-1], dict) else {}
        positional = spec[1:-1] if keywords else spec[1:]
        layer = getattr(torch.nn, spec[0])
        placed = PLACEMENT & set(inspect.signature(layer).bind_partial(*positional, **keywords).arguments)
        if placed:
            raise ValueError(f"layer {number} sets {sorted(placed)[0]}; vsq places the layers itself (it builds them "
                             "on PyTorch's meta device first, to compare their sizes with the weights)")
        modules.append(layer(*positional, **keywords))
    return torch.nn.Sequential(*modules)


def resolve(entry_point: str, base: Path):
    """The callable an entry point names. 'package.module:name' is imported from the environment;
    'path/file.py:name' (relative to `base`, the configuration's folder) is loaded from that file."""
    target, _, name = entry_point.partition(":")
    if target.endswith(".py"):
        path = (base / target).resolve()
        spec = importlib.util.spec_from_file_location(f"vsq_architecture_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    found = module
    for part in name.split("."):
        found = getattr(found, part)
    return found


def is_file(entry_point: str) -> bool:
    """Whether an entry point names a file that came with the configuration (its code needs the grant)."""
    return entry_point.partition(":")[0].endswith(".py")
