"""Which entry points build a PyTorch model without a grant, and with which arguments (`pytorch_architecture`).

The configuration names the callable and writes its arguments, so without --allow-unsafe-model-code only these
builders run, each by name:
- vsq's `sequential` (layers as data: vsq.frameworks.pytorch.architecture);
- a model builder torchvision registered (torchvision.models.list_models(): `mobilenet_v2`, `resnet18`, ...; not
  `get_model`, `get_weight` or any other public function of torchvision.models);
- timm's `create_model`, with a model name timm registered (not "hf-hub:..." or "local-dir:...", which read a
  configuration from elsewhere).
A builder builds an architecture and never loads or downloads weights (those come from source_pytorch_model, read
with weights_only=True): its arguments are an allow-list, the parameters of the builder and of the model classes
defined beside it, less those that load weights (LOADING); a builder's loading parameters with a default other
than None (torchvision's detection models load a backbone by default) are set to None.
torchvision and timm must be regular packages installed in the environment's site-packages: a folder of the same
name in the working folder would stand in for them (`python -m` puts it first on sys.path).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import sysconfig
from pathlib import Path

SEQUENTIAL = "vsq.frameworks.pytorch.architecture:sequential"
TIMM = "timm:create_model"
TORCHVISION = "torchvision.models"  # a registered builder of this package or its submodules
# Parameters that load or download weights or configurations: never from a configuration without a grant.
LOADING = frozenset({"weights", "weights_backbone", "progress", "pretrained", "pretrained_backbone",
                     "pretrained_cfg", "pretrained_cfg_overlay", "checkpoint_path", "cache_dir"})
# Where and in which type the model is allocated: vsq builds it on PyTorch's meta device first (a model of 15 GB
# from a few bytes of arguments is then refused before it is allocated), and a "device" argument would escape that.
REFUSED = LOADING | {"device", "dtype"}
TIMM_OPTIONS = frozenset({"model_name", "scriptable", "exportable", "no_jit"})  # create_model's own, besides LOADING
EXAMPLES = "torchvision.models:mobilenet_v2, timm:create_model or vsq.frameworks.pytorch.architecture:sequential"


def needs_grant(entry_point: str) -> str | None:
    """Why an entry point runs only with --allow-unsafe-model-code, or None for a builder this module allows.
    Decided without importing anything."""
    target, _, name = entry_point.partition(":")
    if target.endswith(".py"):
        return f"{entry_point} runs Python code that came with the configuration"
    torchvision = (target == TORCHVISION or target.startswith(TORCHVISION + ".")) and name.isidentifier() \
        and not name.startswith("_")
    if entry_point not in (SEQUENTIAL, TIMM) and not torchvision:
        return (f"{entry_point} is not a model builder vsq runs without a grant ({EXAMPLES}), and any other "
                "callable with arguments from the configuration can run anything")
    package = target.split(".")[0]
    return None if package == "vsq" else not_installed(package)


def not_installed(package: str) -> str | None:
    """Why `package` is not a regular package of the environment's site-packages, or None when it is. A folder
    without __init__.py is a namespace package (no origin) that any folder on sys.path can add modules to."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return f"{package} is not installed in this environment ({sys.prefix}); install it there"
    installed = [Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")]
    where = [spec.origin] if spec.origin else []
    where += list(spec.submodule_search_locations or [])
    outside = [place for place in where if not any(Path(place).resolve().is_relative_to(f) for f in installed)]
    if spec.origin is None or outside:
        found = outside[0] if outside else (where[0] if where else "a namespace package")
        return f"{package} would be imported from {found}, not from the installed package"
    return None


def check_builder(found, entry_point: str) -> None:
    """The resolved callable is the builder its entry point names; ValueError otherwise (a builder module may
    bring along other modules' functions, such as a downloader)."""
    if not _is_builder(found, entry_point):
        raise ValueError(f"{entry_point} is not a model builder vsq runs without a grant ({EXAMPLES})")


def _is_builder(found, entry_point: str) -> bool:
    if entry_point == SEQUENTIAL:
        from vsq.frameworks.pytorch.architecture import sequential

        return found is sequential
    if entry_point == TIMM:
        import timm

        return found is timm.create_model
    import torchvision.models

    return any(found is torchvision.models.get_model_builder(name) for name in torchvision.models.list_models())


def builder_arguments(found, entry_point: str, arguments: dict) -> dict:
    """The keyword arguments to call an allowed builder with: the configuration's, each one the builder takes to
    shape the architecture, and its loading parameters set to None; ValueError naming the first other one."""
    if entry_point == SEQUENTIAL:
        allowed = {"layers"}
    elif entry_point == TIMM:
        allowed = TIMM_OPTIONS | _model_parameters(_timm_module(arguments.get("model_name")))
    else:
        allowed = _parameters(found) | _model_parameters(sys.modules[found.__module__])
    refused = sorted(set(arguments) - (allowed - REFUSED))
    if refused:
        why = " (a builder builds the architecture; the weights come from source_pytorch_model)" \
            if refused[0] in LOADING else ""
        raise ValueError(f"{refused[0]!r} is not an argument {entry_point} takes without a grant{why}; it takes "
                         f"{', '.join(sorted(allowed - REFUSED))}")
    off = {name: None for name, parameter in _signature(found).items() if name in LOADING
           and not isinstance(parameter.default, bool) and parameter.default not in (None, parameter.empty)}
    return {**arguments, **off}


def _timm_module(model_name):
    """The module that defines the model class of a registered timm model name ("resnet18", "resnet18.a1_in1k")."""
    from timm.models import is_model, model_entrypoint, parse_model_name, split_model_name_tag

    if not isinstance(model_name, str) or parse_model_name(model_name)[0] is not None:
        raise ValueError(f"model_name {str(model_name)[:80]!r} is not a model name timm registered (a source such "
                         "as hf-hub: or local-dir: reads a configuration from elsewhere); give one of timm.list_models()")
    name = split_model_name_tag(model_name)[0]
    if not is_model(name):
        raise ValueError(f"model_name {model_name[:80]!r} is not a model timm registered; give one of "
                         "timm.list_models()")
    return sys.modules[model_entrypoint(name).__module__]


def _signature(function) -> dict:
    try:
        return dict(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return {}


def _parameters(function) -> set[str]:
    """The named parameters of a function (not *args or **kwargs)."""
    return {name for name, parameter in _signature(function).items()
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)}


def _model_parameters(module) -> set[str]:
    """The constructor parameters of the torch.nn.Module classes a module defines: what a builder's **kwargs pass
    on to the model it builds."""
    import torch

    classes = [value for value in vars(module).values() if isinstance(value, type)
               and issubclass(value, torch.nn.Module) and value.__module__ == module.__name__]
    return {name for cls in classes for name in _parameters(cls.__init__)} - {"self"}
