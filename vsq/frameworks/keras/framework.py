"""Keras as a vsq framework (vsq.frameworks.Framework): .h5, .keras and SavedModel files, MCT's Keras
recipes and exports, TensorFlow's TFLite converter, TFLite runtimes for the files, MCT XQuant."""

from __future__ import annotations

from pathlib import Path

from vsq.configuration.config import MCT_KINDS, Config, Variant
from vsq.pipeline.reference import REFERENCE_MODELS

SUFFIXES = (".h5", ".hdf5", ".keras")
KEY = "source_keras_model"


class KerasFramework:
    name = "keras"
    models = REFERENCE_MODELS
    float_export = "model.tflite"  # the float model converted by TensorFlow's standard converter (spec)
    converter = "imxconv-tf"  # Sony's IMX500 converter for Keras files
    channels_first = False  # the model's own input layout (vsq always feeds NHWC batches)

    def check_source(self, config: Config) -> None:
        from vsq.frameworks.keras.safety import unsafe_layers

        model, shown = config.source_keras_model, config.shown(KEY)
        if not model.exists():
            raise config.error(KEY, f"{shown}: no such file or directory; give an .h5 file, a .keras file or a "
                               "SavedModel directory")
        if model.is_dir() and not (model / "saved_model.pb").is_file():
            raise config.error(KEY, f"{shown} is a directory without saved_model.pb; give a SavedModel directory, "
                               "an .h5 file or a .keras file")
        if model.is_file() and model.suffix.lower() not in SUFFIXES:
            raise config.error(KEY, f"{shown} is not a Keras model file; give an .h5 file, a .keras file or a "
                               "SavedModel directory")
        layers = [] if config.allow_unsafe_model_code else unsafe_layers(model)
        if layers:
            raise config.error(KEY, f"{shown} has layers that run stored Python code when loaded: "
                               f"{', '.join(layers[:3])}; loading arbitrary code is refused by default. If you trust "
                               "this file, set \"allow_unsafe_model_code\": true, or save the model without Lambda "
                               "layers")

    def fingerprint(self, config: Config) -> str:
        """The model file's (or SavedModel folder's) SHA-256."""
        from vsq.pipeline.cache import file_digest

        return file_digest(config.source_keras_model)

    def versions(self, stack: dict) -> dict:
        """This framework's own versions its artifacts depend on, from vsq's stack (cache keys)."""
        return {"tensorflow": stack["tensorflow"]}

    def load(self, config: Config):
        from vsq.frameworks.keras.models import load_keras_model

        return load_keras_model(config)

    def describe(self, model, config: Config):
        from vsq.frameworks.keras.models import ModelInfo

        return ModelInfo.of(model)

    def check_matches(self, config: Config, info, num_classes: int) -> None:
        from vsq.frameworks.keras.models import check_model_matches

        check_model_matches(config, info, num_classes)

    def predictor(self, model):
        from vsq.pipeline.evaluate import in_fixed_batches

        return in_fixed_batches(model.predict_on_batch)

    def export_float(self, model, dest: Path) -> Path:
        from vsq.frameworks.keras.models import export_float_tflite

        return export_float_tflite(model, dest)

    def recipe_file(self, recipe: Variant) -> str:
        return recipe.file_name  # model_<name>.tflite

    def model_file(self, recipe: Variant) -> str | None:
        """MCT's quantized Keras model beside an MCT recipe's .tflite: model_<name>.keras (the converter's input)."""
        return recipe.keras_file_name if recipe.kind in MCT_KINDS else None

    def build_recipe(self, recipe: Variant, model, batches, config: Config, dest: Path) -> Path:
        from vsq.frameworks.keras.recipes import build_variant

        return build_variant(recipe, model, batches, config, dest)

    def quantized_model(self, recipe: Variant, model_path: Path, rebuild, config: Config):
        """MCT's quantized Keras model of a recipe, read back from its .keras file (as the converter reads it)."""
        from vsq.frameworks.keras.models import load_quantized_keras

        return load_quantized_keras(model_path, config.allow_unsafe_model_code)

    @property
    def checks(self) -> tuple:
        """The exported files' own checks (model.tflite, model_quantized.tflite)."""
        from vsq.frameworks.keras.checks import EXPORT_CHECKS

        return EXPORT_CHECKS

    def runtime_settings(self, path: Path, config: Config) -> dict | None:
        """What an evaluation of a file depends on besides the file: the TFLite runtime for .tflite files."""
        return vars(config.tflite_runtime) if Path(path).suffix == ".tflite" else None

    def file_predictor(self, path: Path, config: Config, batch_size: int | None = None):
        """.tflite files on the configuration's TFLite runtime; MCT's .keras models loaded as the source
        model is (allow_unsafe_model_code)."""
        if Path(path).suffix == ".keras":
            from vsq.frameworks.keras.models import load_quantized_keras
            from vsq.pipeline.evaluate import in_fixed_batches

            return in_fixed_batches(load_quantized_keras(path, config.allow_unsafe_model_code).predict_on_batch)
        from vsq.runtimes.tflite import TFLiteClassifier

        runtime = config.tflite_runtime
        return TFLiteClassifier(path, runtime, batch_size=batch_size or runtime.batch_size).predict

    def explain(self, model, quantized, representative, validation, report_dir: Path, config: Config):
        from vsq.frameworks.keras.xquant import explain

        settings = config.explanation
        return explain(model, quantized, representative, validation, report_dir, target_platform=config.target_platform,
                       max_representative_images=settings.max_representative_images,
                       max_validation_images=settings.max_validation_images)


KERAS = KerasFramework()
