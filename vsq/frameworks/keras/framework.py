"""Keras as a vsq framework (vsq.frameworks.Framework): .h5, .keras and SavedModel files, MCT's Keras
recipes and exports, TensorFlow's TFLite converter, TFLite runtimes for the files, MCT XQuant; the ONNX Runtime
and OpenVINO recipes (tf2onnx, ONNX Runtime's quantizer, OpenVINO's converter, NNCF) and their runtimes."""

from __future__ import annotations

from pathlib import Path

from vsq.configuration.config import MCT_KINDS, Config, Variant
from vsq.core.reference import REFERENCE_MODELS

SUFFIXES = (".h5", ".hdf5", ".keras")
KEY = "source_keras_model"


class KerasFramework:
    name = "keras"
    models = REFERENCE_MODELS
    float_export = "model.tflite"  # the float model converted by TensorFlow's standard converter (spec)
    converter = "imxconv-tf"  # Sony's IMX500 converter for Keras files
    channels_first = False  # the model's own input layout (vsq always feeds NHWC batches)

    def check_source(self, config: Config) -> None:
        """The model file is what Keras will load it as, and runs no code of its own unless granted
        (vsq.frameworks.keras.safety; vsq.configuration.grants)."""
        from vsq.configuration.grants import UNSAFE_OPTION
        from vsq.frameworks.keras.safety import ModelFormatError, unsafe_layers

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
        try:
            layers = unsafe_layers(model)
        except ModelFormatError as error:
            raise config.error(KEY, f"{shown}: {error}") from None
        if layers and not config.allow_unsafe_model_code:
            raise config.error(KEY, f"{shown} has layers that run code stored in the file when it is loaded or run: "
                               f"{', '.join(layers[:3])}; refused by default. If you trust this file, grant it on the "
                               f"command line: {UNSAFE_OPTION} {config.name} (or vsq.run(..., "
                               "allow_unsafe_model_code=True)); else save the model without those layers")

    def fingerprint(self, config: Config) -> str:
        """The model file's (or SavedModel folder's) SHA-256."""
        from vsq.cache.store import file_digest

        return file_digest(config.source_keras_model)

    def versions(self, stack: dict) -> dict:
        """This framework's own versions its artifacts depend on, from vsq's stack (cache keys, results.json's
        environment): TensorFlow's (a detector's SSDPostProcess is edge-mdt-cl's: the detection task's packages)."""
        return {"tensorflow": stack["tensorflow"]}

    def load(self, config: Config):
        from vsq.frameworks.keras.models import load_keras_model

        return load_keras_model(config)

    def describe(self, model, config: Config):
        from vsq.core.model_info import ModelInfo

        return ModelInfo.of(model)

    def describe_settings(self, config: Config) -> dict:
        return {}  # a Keras model declares its own input shape

    def check_matches(self, config: Config, info, num_classes: int) -> None:
        from vsq.frameworks.keras.models import check_model_matches

        check_model_matches(config, info, num_classes)

    def predictor(self, model):
        """Scores of a classifier; a detector's Detections (vsq.frameworks.keras.detector)."""
        from vsq.frameworks.keras.detector import DetectorPredictor, is_detector
        from vsq.runtimes.pool import in_fixed_batches

        return DetectorPredictor.keras(model) if is_detector(model) else in_fixed_batches(model.predict_on_batch)

    def export_float(self, model, dest: Path) -> Path:
        """model.tflite; a detector's without its post-processing, which TFLite's builtins cannot run."""
        from vsq.frameworks.keras.detector import export_network_float_tflite, is_detector
        from vsq.frameworks.keras.models import export_float_tflite

        return (export_network_float_tflite if is_detector(model) else export_float_tflite)(model, dest)

    def recipe_files(self, recipe: Variant) -> tuple[str, ...]:
        return recipe.file_names  # model_<name>.tflite, .onnx, or OpenVINO's .xml and .bin

    def fake_quant_file(self, recipe: Variant) -> str | None:
        """MCT's quantized Keras model beside an MCT recipe's .tflite: model_<name>.keras (the converter's input)."""
        return recipe.keras_file_name if recipe.kind in MCT_KINDS else None

    def build_recipe(self, recipe: Variant, model, batches, config: Config, dest: Path) -> Path:
        from vsq.frameworks.keras.recipes import build_variant

        return build_variant(recipe, model, batches, config, dest)

    def fake_quant_model(self, recipe: Variant, fake_quant_path: Path, rebuild, config: Config):
        """MCT's quantized Keras model of a recipe, read back from its .keras file (as the converter reads it)."""
        from vsq.frameworks.keras.models import load_fake_quant_keras

        return load_fake_quant_keras(fake_quant_path, config.allow_unsafe_model_code)

    @property
    def checks(self) -> tuple:
        """The exported files' own checks (model.tflite, model_quantized.tflite)."""
        from vsq.frameworks.keras.checks import EXPORT_CHECKS

        return EXPORT_CHECKS

    def runtime_settings(self, path: Path, config: Config, runtime: str | None = None) -> dict | None:
        """What an evaluation of a file depends on besides the file: its runtime's settings (vsq.runtimes.kinds:
        the configuration's TFLite runtime for .tflite files, the pinned ones for .onnx and .xml files)."""
        from vsq.runtimes.kinds import evaluation_settings

        return evaluation_settings(path, config.tflite_runtime, runtime)

    def file_predictor(self, path: Path, config: Config, instances: int | None = None, runtime: str | None = None):
        """A file on its runtime (vsq.runtimes.kinds), a pool of `instances` (None: tflite_runtime's pool size)
        single-threaded instances; MCT's .keras models loaded as the source model is (allow_unsafe_model_code)."""
        instances = instances or config.tflite_runtime.pool_size
        if Path(path).suffix == ".keras":
            from vsq.frameworks.keras.models import load_fake_quant_keras

            return self.predictor(load_fake_quant_keras(path, config.allow_unsafe_model_code))
        if Path(path).suffix == ".tflite":
            from vsq.frameworks.keras.detector import is_network_file

            if is_network_file(path):
                return self._network_predictor(Path(path), config)
        from vsq.runtimes.kinds import predictor

        return predictor(path, config.tflite_runtime, instances, runtime)

    def _network_predictor(self, path: Path, config: Config):
        """A detector's network .tflite followed by the source model's SSDPostProcess, on one interpreter with the
        configuration's TFLite settings."""
        from vsq.frameworks.keras.detector import DetectorPredictor, post_process_from_file

        layer = post_process_from_file(config.source_keras_model)
        if layer is None:
            raise config.error(KEY, f"{path.name} is a detector's network without post-processing but "
                               f"{config.shown(KEY)} has no SSDPostProcess layer to finish it; give the detector")
        return DetectorPredictor.tflite(path, layer, config.tflite_runtime)

    def explain(self, model, quantized, representative, validation, report_dir: Path, config: Config):
        from vsq.frameworks.mct_xquant import explain_options
        from vsq.frameworks.keras.xquant import explain

        return explain(model, quantized, representative, validation, report_dir, **explain_options(config))


KERAS = KerasFramework()
