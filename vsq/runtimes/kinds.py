"""The runtime registry: the one place that knows what a model file's kind means.

Per runtime (`FileRuntime`): the suffix of its files and their companions, the predictor that runs them, how
their storage is described and their weights checked, the device its rows stand for, its settings. Per variant
kind (`KINDS`): which runtime runs its file, what it needs installed, which converters key its build.

Nothing here imports a runtime: a configuration is checked against it before any heavy work
(importlib.util.find_spec only looks for a package), and results.json records it. TFLite files keep
their configurable runtime (the configuration's tflite_runtime, handed in as `configured`); the ONNX Runtime
and OpenVINO settings are pinned here, because like the TFLite op resolver they move figures on the same file.
docs/adding-a-runtime.md says how to add one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from vsq.util import versions

# With the pinned set as constraints pip installs the tested versions and moves no other pin.
INSTALL = "pip install -c requirements.txt"


@dataclass(frozen=True)
class FileRuntime:
    """A runtime: how its files end, what runs and describes them, what its rows stand for, its settings."""

    key: str  # results.json: environment.<key>, a row's runtime.name
    label: str  # in tables and messages
    suffix: str  # of the file it runs
    device: str  # what its rows stand for
    package: str  # the runtime's own distribution (its version goes into evaluation keys)
    settings: dict  # pinned; part of every evaluation key of its files
    # "module:function", imported when used: (path, configured, instances) -> predict(images) -> scores
    predictor: str = ""
    describe: str = ""  # "module:function": path -> storage description (vsq.runtimes.storage)
    weights: str = ""  # "module:function": (kind, description) -> problems with how the weights are stored
    companions: tuple[str, ...] = ()  # suffixes of the other files of one model (an OpenVINO IR's .bin)
    configured: bool = False  # its settings are the configuration's (tflite_runtime), not pinned here
    # the interpreter setting -> the distribution that runs the file (its version is recorded)
    interpreter_packages: dict = field(default_factory=dict)


def _call(target: str):
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


TFLITE = FileRuntime(
    "tflite", "TFLite", ".tflite", "TFLite CPU", "tensorflow", {},
    predictor="vsq.runtimes.tflite:predictor", describe="vsq.runtimes.tflite_storage:describe_tflite",
    weights="vsq.runtimes.tflite_storage:weight_problems", configured=True,
    interpreter_packages={"litert": "ai_edge_litert"})


ONNXRUNTIME = FileRuntime(
    "onnxruntime", "ONNX Runtime", ".onnx", "ONNX Runtime CPU", "onnxruntime",
    {"execution_provider": "CPUExecutionProvider", "intra_op_num_threads": 1, "inter_op_num_threads": 1,
     "graph_optimization_level": "ORT_ENABLE_ALL", "batch_size": 1},
    predictor="vsq.runtimes.onnx_runtime:predictor", describe="vsq.runtimes.onnx_storage:describe_onnx",
    weights="vsq.runtimes.onnx_storage:weight_problems")
# INFERENCE_PRECISION_HINT f32: OpenVINO's CPU plugin infers in bfloat16 by default on CPUs that have it
# (0.018 from Keras against 1.8e-6 in f32), which would make the float row a bf16 one on some machines.
OPENVINO = FileRuntime(
    "openvino", "OpenVINO", ".xml", "OpenVINO CPU", "openvino",
    {"device": "CPU", "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1,
     "ENABLE_CPU_PINNING": False, "batch_size": 1},
    predictor="vsq.runtimes.openvino_runtime:predictor", describe="vsq.runtimes.openvino_storage:describe_openvino",
    weights="vsq.runtimes.openvino_storage:weight_problems", companions=(".bin",))
RUNTIMES = (ONNXRUNTIME, OPENVINO)  # the pinned ones
FILE_RUNTIMES = (TFLITE, *RUNTIMES)  # the default runtime of each suffix
# TFLite's reference kernels (op resolver BUILTIN_REF, the plain kernels of the TFLite spec's arithmetic) beside the
# configured ones: named by a .tflite variant's "runtime"; the same file, so the same storage rules.
TFLITE_REFERENCE = FileRuntime(
    "tflite_reference", "TFLite reference kernels", ".tflite", "TFLite CPU (reference kernels)", "tensorflow",
    {"interpreter": "tensorflow", "op_resolver": "builtin_ref", "num_threads": 1, "batch_size": 1},
    predictor="vsq.runtimes.tflite_reference:predictor", describe=TFLITE.describe, weights=TFLITE.weights)
BY_KEY = {runtime.key: runtime for runtime in (*FILE_RUNTIMES, TFLITE_REFERENCE)}  # every runtime a variant's "runtime" can name


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


def for_kind(kind: str) -> FileRuntime:
    """The runtime of a variant kind's file (TFLite for the kinds that make .tflite files)."""
    return KINDS[kind].runtime if kind in KINDS else TFLITE


def for_file(path: Path, runtime: str | None = None) -> FileRuntime | None:
    """The runtime that runs a file: the one named (a variant's "runtime", a key of BY_KEY), else the default of
    its suffix; None for files no runtime here runs (a .keras model)."""
    if runtime:
        return BY_KEY[runtime]
    return next((known for known in FILE_RUNTIMES if Path(path).suffix == known.suffix), None)


def runtimes_of(kind: str) -> list[str]:
    """The runtimes that can run a variant kind's file (the keys a variant's "runtime" may name)."""
    return [key for key, runtime in BY_KEY.items() if runtime.suffix == suffix_of(kind)]


def suffix_of(kind: str) -> str:
    """The suffix of a kind's file: .tflite, .onnx, or .xml (an OpenVINO IR: .xml beside its .bin)."""
    return for_kind(kind).suffix


def model_files(path: Path) -> list[Path]:
    """Every file of a model: an OpenVINO IR is the .xml and its .bin; anything else is one file."""
    path, runtime = Path(path), for_file(path)
    return [path, *(path.with_suffix(suffix) for suffix in (runtime.companions if runtime else ()))]


def predictor(path: Path, configured, instances: int, runtime: str | None = None):
    """A file as images -> scores on its runtime (named, or its suffix's), a pool of `instances` single-threaded
    instances; `configured`: the configuration's tflite_runtime."""
    return _call(for_file(path, runtime).predictor)(path, configured, instances)


def describe(path: Path) -> dict:
    """A file's storage description (vsq.runtimes.storage); a file of no known suffix is read as TFLite."""
    return _call((for_file(path) or TFLITE).describe)(path)


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways a file's weights are not stored as its kind promises; empty when they are."""
    return _call(for_kind(kind).weights)(kind, description)


def evaluation_settings(path: Path, configured, runtime: str | None = None) -> dict | None:
    """What evaluating a file depends on besides the file (cache keys): the configuration's runtime settings
    for a configured runtime, else the runtime's name, version and pinned settings; None for no runtime."""
    runtime = for_file(path, runtime)
    if runtime is None:
        return None
    return vars(configured) if runtime.configured else settings(runtime)


def runtime_record(path: Path, configured, runtime: str | None = None) -> dict | None:
    """What results.json records of the runtime that ran a file: its name, version and settings."""
    runtime = for_file(path, runtime)
    if runtime is None or not runtime.configured:
        return settings(runtime) if runtime else None
    package = runtime.interpreter_packages.get(getattr(configured, "interpreter", None), runtime.package)
    return {"name": runtime.key, "version": versions.version_of(package), **vars(configured)}


def runtime_of(path: Path) -> FileRuntime | None:
    """The pinned runtime of a file by its suffix; None for .tflite (configured) and .keras files."""
    runtime = for_file(path)
    return None if runtime is None or runtime.configured else runtime


def device_of(kind: str, target_platform: str | None, runtime: str | None = None) -> str:
    """What a row stands for: the runtime named (a variant's "runtime"); else the IMX500 for MCT kinds made for it
    (evaluated as their TFLite INT8 export), TFLite on CPU for the other .tflite files, the CPU runtimes for their
    kinds."""
    if runtime:
        return BY_KEY[runtime].device
    if kind.startswith("mct_") and target_platform == "imx500":
        return "IMX500"
    return for_kind(kind).device


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


def runtime_lines(tflite_runtime, variant_kinds) -> dict[str, str]:
    """label -> text: the TFLite runtime a configuration runs on (its configured settings), then the runtimes its
    variants' kinds use besides (ONNX Runtime, OpenVINO: version and pinned settings); the HTML report's
    Environment table."""
    lines = {"TFLite runtime": f"{tflite_runtime.interpreter}, op resolver {tflite_runtime.op_resolver}, "
                               f"{tflite_runtime.num_threads} thread(s), batch {tflite_runtime.batch_size}"}
    used = {KINDS[kind].runtime.key: KINDS[kind].runtime for kind in variant_kinds if kind in KINDS}
    lines.update({runtime.label: ", ".join(f"{name} {value}" for name, value in settings(runtime).items()
                                           if name != "name") for runtime in used.values()})
    return lines
