"""The framework seam: loading, running, quantizing, exporting and explaining a model go through one
small interface, one implementation per framework (Keras today).

The pipeline (vsq.pipeline) calls only what `Framework` declares; it never asks which framework it has.
Images reach every predictor as float32 (N, height, width, 3) batches, preprocessed by the one transform;
a framework that wants another layout transposes them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

if TYPE_CHECKING:
    import numpy as np

    from vsq.configuration.config import Config, Variant
    from vsq.core.reference import ReferenceModel

# images (N, H, W, 3) float32 -> scores (N, classes); a detector's: vsq.core.detections.Detections
Predict = Callable[["np.ndarray"], "np.ndarray"]
Batches = Callable[[], Iterable["np.ndarray"]]  # a fresh iterator over calibration batches


class Framework(Protocol):
    name: str
    # The reference models, in order: models[0] is the float model every drop is measured against; each has
    # a role (vsq.core.reference).
    models: tuple[ReferenceModel, ...]
    float_export: str | None  # the float conversion's file (model.tflite), None when there is none
    converter: str  # Sony's IMX500 converter for this framework's files (imxconv-tf, imxconv-pt)
    channels_first: bool  # the model's own input layout (NCHW for PyTorch); predictors take NHWC batches
    checks: tuple  # the CheckSpecs of the exported files

    def check_source(self, config: Config) -> None:
        """Before any heavy work: the model file is there, of a kind this framework loads, and loading it
        runs no code the configuration did not ask for; raise ConfigError otherwise."""

    def fingerprint(self, config: Config) -> str:
        """A digest of everything that makes the float model (cache keys)."""

    def versions(self, stack: dict) -> dict:
        """The framework's own versions its artifacts depend on (cache keys), given vsq's stack."""

    def load(self, config: Config):
        """The float model, for inference; ConfigError when it cannot be loaded."""

    def describe(self, model, config: Config):
        """vsq.frameworks.keras.models.ModelInfo of the model's interface (shapes as vsq feeds it)."""

    def describe_settings(self, config: Config) -> dict:
        """The settings describe() reads besides the model (the model interface's cache key)."""

    def check_matches(self, config: Config, info, num_classes: int) -> None:
        """The model takes input_tensor_size images and has one output per label; ConfigError otherwise."""

    def predictor(self, model) -> Predict:
        """The float model (or MCT's fake-quant model) as images -> scores, or a detector's Detections."""

    def export_float(self, model, dest: Path) -> Path:
        """The float model converted to float_export's file (Keras: model.tflite)."""

    def recipe_files(self, recipe: Variant) -> tuple[str, ...]:
        """The files a quantization recipe writes in output_dir, the one its runtime loads first
        (model_<name>.tflite; model_<name>.xml and .bin; model_<name>.onnx)."""

    def fake_quant_file(self, recipe: Variant) -> str | None:
        """MCT's quantized model as a file beside it (model_<name>.keras), or None when it stays in memory."""

    def build_recipe(self, recipe: Variant, model, batches: Batches, config: Config, dest: Path) -> Path:
        """A recipe's files (dest, and fake_quant_file beside it); ExternalToolError with the tool's words."""

    def fake_quant_model(self, recipe: Variant, fake_quant_path: Path | None, rebuild: Callable, config: Config):
        """MCT's quantized model of a recipe, as an object of the framework (read from fake_quant_path, kept from
        the build, or made again by rebuild())."""

    def runtime_settings(self, path: Path, config: Config, runtime: str | None = None) -> dict | None:
        """What evaluating a built file depends on besides the file (its runtime: the one named, a key of
        vsq.runtimes.kinds.BY_KEY, else its suffix's), for cache keys."""

    def file_predictor(self, path: Path, config: Config, instances: int | None = None,
                       runtime: str | None = None) -> Predict:
        """A built file (an exported model, a variant) as images -> scores, on its runtime (named, else its
        suffix's), from a pool of `instances` (None: the configuration's pool size) single-threaded instances."""

    def explain(self, model, quantized, representative: Iterable, validation: Iterable, report_dir: Path,
                config: Config):
        """vsq.core.layers.Explanation of the quantized model against the float one."""


# The registry: a configuration's source key -> where its framework object lives (imported only when used, so that
# checking a configuration imports no framework). A framework is added here and in the schema's source keys.
FRAMEWORKS = {
    "source_keras_model": "vsq.frameworks.keras.framework:KERAS",
    "source_pytorch_model": "vsq.frameworks.pytorch.framework:PYTORCH",
}


def for_config(config: Config) -> Framework:
    """The framework of a configuration's source model: the registry's entry of the source key it has."""
    from importlib import import_module

    module, _, name = FRAMEWORKS[config.source_key].partition(":")
    return getattr(import_module(module), name)
