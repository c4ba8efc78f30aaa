"""Versions of the stack, read from package metadata so that asking costs no TensorFlow import."""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata

VSQ = "0.1.0"  # vsq's own version (pyproject.toml's)

# Distribution names to try, in order, for each component.
DISTRIBUTIONS = {
    "tensorflow": ("tensorflow-cpu", "tensorflow", "tensorflow-intel", "tensorflow-macos"),
    "model_compression_toolkit": ("model-compression-toolkit", "model_compression_toolkit"),
    "ai_edge_litert": ("ai-edge-litert",),
    "pillow": ("pillow", "Pillow"),  # decodes and resizes every image: its version moves Top-1 by tenths of a point
}
# The other runtimes' converters and runtimes: in the keys and rows of the variants that use them only
# (vsq.runtimes.kinds), so that installing them changes no other cache key.
RUNTIME_DISTRIBUTIONS = {
    "tf2onnx": ("tf2onnx",),
    "onnx": ("onnx",),
    "onnxruntime": ("onnxruntime",),
    "openvino": ("openvino",),
    "nncf": ("nncf",),
}

# What a framework's models run besides it (Framework.versions: in its cache keys and results.json's environment):
# mct-quantizers' and onnxruntime-extensions' operators run MCT's ONNX files.
FRAMEWORK_DISTRIBUTIONS = {
    "mct_quantizers": ("mct-quantizers",),
    "onnxruntime_extensions": ("onnxruntime-extensions", "onnxruntime_extensions"),
}
# What a task's figures depend on besides the stack (Task.packages: in the cache keys and the environment of its runs
# only, so that a classifier's keys and baselines do not move with a detector's packages): edge-mdt-cl's
# post-processing (Keras SSDPostProcess, PyTorch multiclass_nms and its ONNX Runtime operator) makes every detection,
# pycocotools every mAP.
TASK_DISTRIBUTIONS = {
    "edge_mdt_cl": ("edge-mdt-cl",),
    "pycocotools": ("pycocotools",),
}
MODULES = {"edge_mdt_cl": "edgemdt_cl"}  # the module a component is imported as, where its name differs


def module_of(component: str) -> str:
    """The module a component is imported as (importlib.util.find_spec tells whether it is installed)."""
    return MODULES.get(component, component)


@lru_cache(maxsize=None)
def version_of(component: str) -> str | None:
    for name in {**DISTRIBUTIONS, **RUNTIME_DISTRIBUTIONS, **FRAMEWORK_DISTRIBUTIONS, **TASK_DISTRIBUTIONS}[component]:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def stack() -> dict:
    """vsq, TensorFlow, MCT, LiteRT and Pillow versions (None when not installed)."""
    return {"vsq": VSQ, **{component: version_of(component) for component in DISTRIBUTIONS}}


@lru_cache(maxsize=1)
def image_library() -> dict:
    """What decodes the images: Pillow's version and its JPEG decoder's (libjpeg-turbo in Pillow's wheels, the
    system's libjpeg in a build from source): decoded pixels, and so Top-1, depend on both."""
    from PIL import features

    jpeg = features.version("libjpeg_turbo")
    return {"pillow": version_of("pillow"), "jpeg": f"libjpeg-turbo {jpeg}" if jpeg else
            f"libjpeg {features.version('jpg')}"}


def versions_of(components) -> dict:
    """{component: version or None} for the named components."""
    return {component: version_of(component) for component in components}


def stack_lines() -> dict[str, str]:
    """label -> version of the stack a run's figures come from (the HTML report's Environment table)."""
    versions = stack()
    return {"vsq": versions["vsq"], "TensorFlow": versions["tensorflow"],
            "Model Compression Toolkit": versions["model_compression_toolkit"],
            "LiteRT": versions["ai_edge_litert"] or "not installed",
            "Pillow": f"{versions['pillow']} ({image_library()['jpeg']})"}
