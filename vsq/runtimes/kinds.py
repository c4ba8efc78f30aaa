"""Which runtime runs each variant kind's file, which device its row stands for, what it needs installed.

Nothing here imports a runtime: a configuration is checked against it before any heavy work
(importlib.util.find_spec only looks for a package), and results.json records it. TFLite files keep
their configurable runtime (tflite_runtime); the ONNX Runtime and OpenVINO settings are pinned here,
because like the TFLite op resolver they move figures on the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from vsq.util import versions

# With the pinned set as constraints pip installs the tested versions and moves no other pin.
INSTALL = "pip install -c requirements.txt"


@dataclass(frozen=True)
class FileRuntime:
    """A runtime other than TFLite: how its files end, what its rows stand for, its pinned settings."""

    key: str  # results.json: environment.<key>, a row's runtime.name
    label: str  # in tables and messages
    suffix: str  # of the file it runs
    device: str  # what its rows stand for
    package: str  # the runtime's own distribution (its version goes into evaluation keys)
    settings: dict  # pinned; part of every evaluation key of its files


ONNXRUNTIME = FileRuntime(
    "onnxruntime", "ONNX Runtime", ".onnx", "ONNX Runtime CPU", "onnxruntime",
    {"execution_provider": "CPUExecutionProvider", "intra_op_num_threads": 1, "inter_op_num_threads": 1,
     "graph_optimization_level": "ORT_ENABLE_ALL", "batch_size": 1})
# INFERENCE_PRECISION_HINT f32: OpenVINO's CPU plugin infers in bfloat16 by default on CPUs that have it
# (0.018 from Keras against 1.8e-6 in f32), which would make the float row a bf16 one on some machines.
OPENVINO = FileRuntime(
    "openvino", "OpenVINO", ".xml", "OpenVINO CPU", "openvino",
    {"device": "CPU", "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1,
     "ENABLE_CPU_PINNING": False, "batch_size": 1})
RUNTIMES = (ONNXRUNTIME, OPENVINO)


@dataclass(frozen=True)
class KindNeeds:
    runtime: FileRuntime
    modules: tuple[str, ...]  # import names (= distribution names) the build and the evaluation need
    converters: tuple[str, ...]  # components whose versions go into the recipe's cache key


KINDS = {
    "onnxruntime_float": KindNeeds(ONNXRUNTIME, ("tf2onnx", "onnx", "onnxruntime"), ("tf2onnx", "onnx")),
    # sympy: ONNX Runtime's quant_pre_process (symbolic shape inference) imports it.
    "onnxruntime_int8": KindNeeds(ONNXRUNTIME, ("tf2onnx", "onnx", "onnxruntime", "sympy"),
                                  ("tf2onnx", "onnx", "onnxruntime")),
    "openvino_float": KindNeeds(OPENVINO, ("openvino",), ("openvino",)),
    "openvino_int8": KindNeeds(OPENVINO, ("openvino", "nncf"), ("openvino", "nncf")),
}


def suffix_of(kind: str) -> str:
    """The suffix of a kind's file: .tflite, .onnx, or .xml (an OpenVINO IR: .xml beside its .bin)."""
    return KINDS[kind].runtime.suffix if kind in KINDS else ".tflite"


def model_files(path: Path) -> list[Path]:
    """Every file of a model: an OpenVINO IR is the .xml and its .bin; anything else is one file."""
    path = Path(path)
    return [path, path.with_suffix(".bin")] if path.suffix == OPENVINO.suffix else [path]


def runtime_of(path: Path) -> FileRuntime | None:
    """The runtime of a file by its suffix; None for .tflite (and .keras) files."""
    return next((runtime for runtime in RUNTIMES if Path(path).suffix == runtime.suffix), None)


def device_of(kind: str, target_platform: str | None) -> str:
    """What a row stands for: the IMX500 for MCT kinds made for it (evaluated as their TFLite INT8 export),
    TFLite on CPU for the other .tflite files, and the CPU runtimes for their kinds."""
    if kind in KINDS:
        return KINDS[kind].runtime.device
    return "IMX500" if kind.startswith("mct_") and target_platform == "imx500" else "TFLite CPU"


def converter_versions(kind: str) -> dict | None:
    """Versions of the converters and quantizers that build a kind's file (None for the TFLite kinds, whose
    TensorFlow and MCT versions are keyed already)."""
    return versions.versions_of(KINDS[kind].converters) if kind in KINDS else None


def settings(runtime: FileRuntime) -> dict:
    """The runtime's name, version and pinned settings: what an evaluation of its file depends on."""
    return {"name": runtime.key, "version": versions.version_of(runtime.package), **runtime.settings}


def missing_modules(kind: str) -> list[str]:
    """The packages a kind needs that are not installed (looked up, not imported)."""
    needs = KINDS.get(kind)
    return [module for module in (needs.modules if needs else ()) if find_spec(module) is None]


def install_command(kind: str) -> str:
    return f"{INSTALL} {' '.join(KINDS[kind].modules)}"
