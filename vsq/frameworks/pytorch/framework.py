"""PyTorch as a vsq framework (vsq.frameworks.Framework): a state_dict and its architecture, MCT's PyTorch
recipes, their ONNX export (MCTQ) run by ONNX Runtime, MCT XQuant. It runs in the PyTorch environment
(.venv-torch); without torch the configuration is refused before any heavy work, naming the setup command."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from vsq.configuration.config import Config, Variant
from vsq.frameworks.pytorch.architecture import is_file
from vsq.frameworks.pytorch.builders import needs_grant
from vsq.core.reference import PYTORCH_MODELS
from vsq.util.versions import module_of, versions_of

KEY = "source_pytorch_model"
SUFFIXES = (".pt", ".pth")
SETUP_COMMAND = "bash scripts/setup_pytorch.sh, then run with .venv-torch/bin/pytest (or .venv-torch/bin/python -m vsq run)"
NEEDED = ("torch", "torchvision", "onnxruntime", "onnxruntime_extensions", "model_compression_toolkit")
# What runs MCT's ONNX files besides ONNX Runtime: mct-quantizers' and onnxruntime-extensions' operators
# (vsq.util.versions.FRAMEWORK_DISTRIBUTIONS; edge-mdt-cl's NMS is the detection task's: Task.packages).
OPERATORS = ("mct_quantizers", "onnxruntime_extensions")


class PyTorchFramework:
    name = "pytorch"
    models = PYTORCH_MODELS
    float_export = None  # no float conversion: the quantized file is ONNX, run by ONNX Runtime
    converter = "imxconv-pt"  # Sony's IMX500 converter for ONNX files
    channels_first = True  # the model's own input layout (its predictors transpose vsq's NHWC batches)

    def __init__(self):
        self._quantized: dict[str, object] = {}  # recipe name -> MCT's quantized model, in this process

    def check_source(self, config: Config) -> None:
        from vsq.configuration.grants import UNSAFE_OPTION

        from vsq.tasks import for_config as task_for

        needed = (*NEEDED, *(module_of(package) for package in task_for(config).packages))  # a detector's pycocotools
        missing = [name for name in needed if importlib.util.find_spec(name) is None]
        if missing:
            raise config.error(KEY, f"a PyTorch model needs {', '.join(missing)}, not installed in this environment "
                               f"({os.path.dirname(os.path.dirname(importlib.util.find_spec('vsq').origin))}); "
                               f"install with: {SETUP_COMMAND}")
        weights, shown = config.source_pytorch_model, config.shown(KEY)
        if not weights.is_file():
            what = "is not a file" if weights.exists() else "no such file"
            raise config.error(KEY, f"{shown}: {what}; give the state_dict file (torch.save(model.state_dict(), path))")
        if weights.suffix.lower() not in SUFFIXES:
            raise config.error(KEY, f"{shown} is not a PyTorch weights file ({', '.join(SUFFIXES)}); save "
                               "torch.save(model.state_dict(), path)")
        entry_point = config.pytorch_architecture.entry_point
        if is_file(entry_point):
            code = (config.file.parent / entry_point.partition(":")[0])
            if not code.is_file() or code.is_symlink():
                raise config.error("pytorch_architecture.entry_point", f"{entry_point}: {code} is not a file (links are "
                                   "refused); give the .py file that defines the model")
        why = needs_grant(entry_point)
        if why and not config.allow_unsafe_model_code:
            raise config.error("pytorch_architecture.entry_point", f"{why}; refused by default. If you trust it, grant "
                               f"it on the command line: {UNSAFE_OPTION} {config.name} (or vsq.run(..., "
                               "allow_unsafe_model_code=True)); else use a builder such as "
                               "torchvision.models:mobilenet_v2 or vsq.frameworks.pytorch.architecture:sequential")

    def fingerprint(self, config: Config) -> str:
        """What the float model is: its weights, its architecture and, for a file, that file's content."""
        from vsq.cache.store import file_digest, key_of

        architecture = config.pytorch_architecture
        code = architecture.entry_point.partition(":")[0]
        return key_of(weights=file_digest(config.source_pytorch_model), entry_point=architecture.entry_point,
                      arguments=architecture.arguments,
                      code=file_digest(config.file.parent / code) if is_file(architecture.entry_point) else None)

    def versions(self, stack: dict) -> dict:
        """This framework's own versions its artifacts depend on (cache keys, results.json's environment): torch's,
        torchvision's, ONNX Runtime's and OPERATORS' (vsq's stack has TensorFlow's, absent here)."""
        from importlib import metadata

        return {**{name: metadata.version(name) for name in ("torch", "torchvision", "onnxruntime")},
                **versions_of(OPERATORS)}

    def load(self, config: Config):
        from vsq.frameworks.pytorch.models import load_pytorch_model

        return load_pytorch_model(config)

    def describe(self, model, config: Config):
        from vsq.frameworks.pytorch.models import describe

        return describe(model, config)

    def describe_settings(self, config: Config) -> dict:
        """A PyTorch model keeps no input shape: describe() runs it at input_tensor_size."""
        return {"input_tensor_size": config.input_tensor_size}

    def check_matches(self, config: Config, info, num_classes: int) -> None:
        """A detector under task "detection" and a classifier under "classification" (else refused naming `task`);
        a classifier has one output per label. The input size was checked by describe()'s forward pass."""
        from vsq.core.detections import check_task
        from vsq.frameworks.pytorch.detector import POST_PROCESSING

        if check_task(config, info, KEY, POST_PROCESSING):
            return
        if info.num_outputs != num_classes:
            raise config.error("evaluate_label_file", f"{config.shown('evaluate_label_file')} has {num_classes} classes "
                               f"but the model has {info.num_outputs} outputs; labels.json must list one class per "
                               "output")

    def predictor(self, model):
        from vsq.frameworks.pytorch.models import predictor

        return predictor(model)

    def recipe_files(self, recipe: Variant) -> tuple[str, ...]:
        return (f"model_{recipe.name}.onnx",)  # MCT's ONNX export (MCTQ), for ONNX Runtime and imxconv-pt

    def fake_quant_file(self, recipe: Variant) -> None:
        """MCT's quantized PyTorch model stays in memory (a pickled module would run code when read back)."""
        return None

    def build_recipe(self, recipe: Variant, model, batches, config: Config, dest: Path) -> Path:
        from vsq.frameworks.pytorch.recipes import export_onnx, quantize

        self._quantized[recipe.name] = quantize(recipe, model, batches, config)
        return export_onnx(self._quantized[recipe.name], dest, batches)

    def fake_quant_model(self, recipe: Variant, fake_quant_path, rebuild, config: Config):
        """MCT's quantized model of a recipe: the one this process built, else built again (rebuild())."""
        if recipe.name not in self._quantized:
            self._quantized[recipe.name] = rebuild()
        return self._quantized[recipe.name]

    def quantize(self, recipe: Variant, model, batches, config: Config):
        from vsq.frameworks.pytorch.recipes import quantize

        return quantize(recipe, model, batches, config)

    @property
    def checks(self) -> tuple:
        from vsq.frameworks.pytorch.checks import EXPORT_CHECKS

        return EXPORT_CHECKS

    def runtime_settings(self, path: Path, config: Config, runtime: str | None = None) -> dict:
        """ONNX Runtime on the CPU, one thread per session, mct-quantizers' and edge-mdt-cl's operators (the only runtime of a PyTorch
        model's files: the configuration refuses a variant's "runtime" for PyTorch)."""
        from importlib import metadata

        return {"runtime": "onnxruntime", "version": metadata.version("onnxruntime"), "threads": 1,
                "providers": ["CPUExecutionProvider"], "operators": versions_of(OPERATORS)}

    def file_predictor(self, path: Path, config: Config, instances: int | None = None, runtime: str | None = None):
        from vsq.frameworks.pytorch.onnx_runtime import OnnxModel

        from vsq.core.detections import DETECTION

        return OnnxModel(path, instances=instances or config.tflite_runtime.pool_size,
                         detector=config.task == DETECTION).predict

    def explain(self, model, quantized, representative, validation, report_dir: Path, config: Config):
        from vsq.frameworks.mct_xquant import explain_options
        from vsq.frameworks.pytorch.xquant import explain

        return explain(model, quantized, representative, validation, report_dir, **explain_options(config))


PYTORCH = PyTorchFramework()
