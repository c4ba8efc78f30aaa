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
    from vsq.pipeline.reference import ReferenceModel

Predict = Callable[["np.ndarray"], "np.ndarray"]  # images (N, H, W, 3) float32 -> scores (N, classes)
Batches = Callable[[], Iterable["np.ndarray"]]  # a fresh iterator over calibration batches


class Framework(Protocol):
    name: str
    # The reference models, in order: models[0] is the float model every drop is measured against.
    models: tuple[ReferenceModel, ...]

    def check_source(self, config: Config) -> None:
        """Before any heavy work: the model file is there, of a kind this framework loads, and loading it
        runs no stored code the configuration did not opt in to; raise ConfigError otherwise."""

    def load(self, config: Config):
        """The float model, for inference; ConfigError when it cannot be loaded."""

    def describe(self, model):
        """vsq.frameworks.keras.models.ModelInfo-like facts of the model's interface (shapes)."""

    def check_matches(self, config: Config, info, num_classes: int) -> None:
        """The model takes input_tensor_size images and has one output per label; ConfigError otherwise."""

    def predictor(self, model) -> Predict:
        """The float model as images -> scores."""

    def export_float(self, model, dest: Path) -> Path:
        """The float model converted to the deployable float file (model.tflite for Keras)."""

    def build_recipe(self, recipe: Variant, model, batches: Batches, config: Config, dest: Path) -> Path:
        """A quantization recipe's files (dest, and beside it the quantized model in the framework's own
        format where the recipe has one); ExternalToolError with the tool's words when it cannot."""

    def file_predictor(self, path: Path, config: Config, instances: int | None = None) -> Predict:
        """A built file (an exported model, a variant) as images -> scores, on its pinned runtime, from a pool of
        `instances` (None: the configuration's pool size) single-threaded instances."""

    def runtime_settings(self, path: Path, config: Config) -> dict | None:
        """What an evaluation of a built file depends on besides the file (runtime, version, kernels, threads)."""

    def explain(self, model, quantized_path: Path, representative: Iterable, validation: Iterable, report_dir: Path,
                config: Config):
        """vsq.sections.layers.Explanation of the quantized model against the float one."""


def for_config(config: Config) -> Framework:
    """The framework of a configuration's source model."""
    from vsq.frameworks.keras.framework import KERAS

    return KERAS
