"""Keras model loading, the checks that need the model, and the float TFLite conversion."""

from __future__ import annotations

from pathlib import Path

from vsq.util import atomic
from vsq.util.descriptors import to_devnull
from vsq.configuration.config import Config
from vsq.core.model_info import ModelInfo  # noqa: F401 (re-exported: its name before the move)
from vsq.errors import ExternalToolError

from vsq.core.detections import DETECTION, MAX_DETECTIONS, check_task, detection_outputs  # noqa: F401 (re-exported)


def trusted_layers() -> dict:
    """The custom layer classes Keras' loaders may resolve (vsq.frameworks.keras.safety.TRUSTED_LAYERS):
    edge-mdt-cl's SSDPostProcess and nothing else; its other registered layers are not needed by a model ending in
    SSDPostProcess, which builds its own box decoder."""
    from edgemdt_cl.keras import SSDPostProcess

    return {"SSDPostProcess": SSDPostProcess}


def layers_scope():
    """A scope in which Keras' loaders resolve the trusted layers (edge-mdt-cl's own custom_layers_scope would
    add every layer it registers, trusted or not)."""
    import tensorflow as tf

    return tf.keras.utils.custom_object_scope(trusted_layers())


def load_keras_model(config: Config):
    """Load source_keras_model for inference (no compile), raising ConfigError when unusable."""
    import tensorflow as tf

    path = config.source_keras_model
    try:
        options = {"safe_mode": False} if config.allow_unsafe_model_code else {}  # .keras files honour it
        with layers_scope():  # a detector's post-processing (edge-mdt-cl), the only custom layer resolved
            model = tf.keras.models.load_model(str(path), compile=False, **options)
    except Exception as error:  # Keras raises many types; the user needs its own words (spec)
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} cannot be loaded as a "
                           f"Keras model: {type(error).__name__}: {error}") from None
    if not isinstance(model, tf.keras.Model):
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} is a SavedModel without "
                           "a Keras model in it; save it with model.save() from Keras")
    return model


def load_fake_quant_keras(path: Path, allow_unsafe_model_code: bool = False):
    """MCT's quantized Keras model (model_quantized.keras, with mct_quantizers' layers) for inference.

    It holds the user's layers, Lambda layers included: loaded as the source model is
    (allow_unsafe_model_code; mct_quantizers' loader has no safe_mode of its own).
    """
    from keras.src.saving.serialization_lib import SafeModeScope
    from mct_quantizers import keras_load_quantized_model

    try:
        with SafeModeScope(safe_mode=not allow_unsafe_model_code):
            return keras_load_quantized_model(str(path), custom_objects=trusted_layers(), compile=False)
    except Exception as error:
        raise ExternalToolError("MCT quantizers", f"loading {Path(path).name}", error) from None


def check_model_matches(config: Config, info: ModelInfo, num_classes: int) -> None:
    """The model takes input_tensor_size x input_tensor_size x 3 and has one output per label; a detector
    (detection_outputs) is checked for its input only: its class count is not in its output shapes."""
    if check_task(config, info, "source_keras_model", "edge-mdt-cl's SSDPostProcess"):
        return _check_input(config, info)
    if len(info.input_shapes) != 1 or len(info.output_shapes) != 1:
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} has "
                           f"{len(info.input_shapes)} inputs and {len(info.output_shapes)} outputs; an image "
                           "classifier with one input and one output is needed")
    _check_input(config, info)
    if info.num_outputs != num_classes:
        raise config.error("evaluate_label_file", f"{config.shown('evaluate_label_file')} has {num_classes} "
                           f"classes but the model has {info.num_outputs} outputs; labels.json must list one "
                           "class per output")


def _check_input(config: Config, info: ModelInfo) -> None:
    shape = info.input_shapes[0]
    size = config.input_tensor_size
    if len(shape) != 4 or shape[3] != 3:
        raise config.error("source_keras_model", f"input shape {shape} is not (batch, height, width, 3); "
                           "vsq feeds RGB images")
    if None not in shape[1:3] and shape[1] != shape[2]:  # input_tensor_size is one side of a square
        raise config.error("input_tensor_size", f"the model takes {shape[1]}x{shape[2]} images "
                           f"({config.shown('source_keras_model')}); vsq supports square inputs only (height = "
                           "width = input_tensor_size): export the model with a square input")
    if tuple(shape[1:3]) != (size, size) and tuple(shape[1:3]) != (None, None):
        raise config.error("input_tensor_size", f"{size} does not match the model's input {shape[1]}x{shape[2]} "
                           f"({config.shown('source_keras_model')}); set input_tensor_size to {shape[1]}")


def export_float_tflite(model, dest: Path) -> Path:
    """model.tflite: the float model converted by TensorFlow's standard converter (spec)."""
    import tensorflow as tf

    try:
        with to_devnull(1, 2):  # the MLIR converter prints op counts below Python's streams
            data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    except Exception as error:
        raise ExternalToolError("TensorFlow Lite converter", f"converting the Keras model to {dest.name}", error) from None
    atomic.write_bytes(dest, data)
    return dest
