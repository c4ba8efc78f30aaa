"""Which nn.Module a PyTorch configuration's weights go into: an entry point `module:callable` and its
keyword arguments (`pytorch_architecture`).

The entry point is code the configuration picks, with arguments it writes, so only model builders run without
a grant: public callables defined in torchvision.models, timm or vsq's own `sequential`, imported from the
installed environment (not from a file beside the configuration or in the working folder, which would shadow
them). Anything else (another module such as `subprocess:run`, a `.py` file that came with the configuration)
runs only when the run grants it (--allow-unsafe-model-code NAME; vsq.configuration.grants).
`vsq.frameworks.pytorch.architecture:sequential` builds an nn.Sequential from data alone: layers of an
allow-list of torch.nn classes with JSON arguments, so a simple CNN needs no code at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import sysconfig
from pathlib import Path

# Modules whose public callables build models and nothing else: an entry point in them (or their submodules)
# runs without a grant.
BUILDERS = ("torchvision.models", "timm", "vsq.frameworks.pytorch.architecture")
# torch.nn classes `sequential` may build: layers without code of their own, each MCT and the IMX500
# converter handle.
LAYERS = ("Conv2d", "BatchNorm2d", "ReLU", "ReLU6", "Hardswish", "Hardsigmoid", "Sigmoid", "SiLU", "Tanh",
          "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear", "Dropout", "Identity", "Softmax")


def sequential(layers: list) -> "torch.nn.Sequential":  # noqa: F821
    """nn.Sequential of `layers`: each ["Conv2d", positional..., {keyword: value}] (the dict is optional)."""
    import torch

    modules = []
    for number, spec in enumerate(layers):
        if not isinstance(spec, list) or not spec or spec[0] not in LAYERS:
            raise ValueError(f"layer {number} is {spec!r}; write [\"Conv2d\", 3, 16, 3, {{\"padding\": 1}}] with one of "
                             f"{', '.join(LAYERS)}")
        keywords = spec[-1] if len(spec) > 1 and isinstance(spec[-1], dict) else {}
        positional = spec[1:-1] if keywords else spec[1:]
        modules.append(getattr(torch.nn, spec[0])(*positional, **keywords))
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


def _within(module: str, prefixes) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def needs_grant(entry_point: str) -> str | None:
    """Why an entry point runs only with --allow-unsafe-model-code, or None for a model builder of BUILDERS
    installed in the environment's site-packages (or vsq's own)."""
    target, _, name = entry_point.partition(":")
    if is_file(entry_point):
        return f"{entry_point} runs Python code that came with the configuration"
    if not _within(target, BUILDERS) or not name.isidentifier() or name.startswith("_"):
        return (f"{entry_point} is not a public model builder of {', '.join(BUILDERS)}, and any other callable "
                "with arguments from the configuration can run anything")
    package = target.split(".")[0]  # found without importing anything (a submodule's spec imports its package)
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return None  # not installed: loading it says so
    origin = Path(spec.origin).resolve()
    installed = [Path(sysconfig.get_paths()[name]).resolve() for name in ("purelib", "platlib")]
    if not any(origin.is_relative_to(folder) for folder in (*installed, Path(__file__).resolve().parents[2])):
        return f"{package} would be imported from {origin}, not from the installed package"
    return None


def check_builder(found, entry_point: str) -> None:
    """The resolved callable is defined in a module of BUILDERS (a builder module re-exporting another module's
    function, such as a downloader, is not a builder); ValueError otherwise."""
    module = getattr(found, "__module__", None) or ""
    if not callable(found) or not _within(module, BUILDERS):
        raise ValueError(f"{entry_point} resolves to {module or type(found).__name__}, not a model builder of "
                         f"{', '.join(BUILDERS)}")
