"""Keras model loading, the checks that need the model, and the float TFLite conversion."""

from __future__ import annotations

from pathlib import Path

from vsq import atomic
from vsq.config import Config
from vsq.errors import ExternalToolError


def load_keras_model(config: Config):
    """Load source_keras_model for inference (no compile), raising ConfigError when unusable."""
    import tensorflow as tf

    path = config.source_keras_model
    try:
        model = tf.keras.models.load_model(str(path), compile=False)
    except Exception as error:  # Keras raises many types; the user needs its own words (spec)
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} cannot be loaded as a "
                           f"Keras model: {type(error).__name__}: {error}") from None
    if not isinstance(model, tf.keras.Model):
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} is a SavedModel without "
                           "a Keras model in it; save it with model.save() from Keras")
    return model


def check_model_matches(config: Config, model, num_classes: int) -> None:
    """The model takes input_tensor_size x input_tensor_size x 3 and has one output per label."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} has "
                           f"{len(model.inputs)} inputs and {len(model.outputs)} outputs; an image classifier "
                           "with one input and one output is needed")
    shape = tuple(model.inputs[0].shape)
    size = config.input_tensor_size
    if len(shape) != 4 or shape[3] != 3:
        raise config.error("source_keras_model", f"input shape {shape} is not (batch, height, width, 3); "
                           "vsq feeds RGB images")
    if shape[1:3] != (size, size) and shape[1:3] != (None, None):
        raise config.error("input_tensor_size", f"{size} does not match the model's input {shape[1]}x{shape[2]} "
                           f"({config.shown('source_keras_model')}); set input_tensor_size to {shape[1]}")
    outputs = model.outputs[0].shape[-1]
    if outputs != num_classes:
        raise config.error("evaluate_label_file", f"{config.shown('evaluate_label_file')} has {num_classes} "
                           f"classes but the model has {outputs} outputs; labels.json must list one class per "
                           "output")


def export_float_tflite(model, dest: Path) -> Path:
    """model.tflite: the float model converted by TensorFlow's standard converter (spec)."""
    import tensorflow as tf

    try:
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    except Exception as error:
        raise ExternalToolError("TensorFlow Lite converter", f"converting the Keras model to {dest.name}", error) from None
    atomic.write_bytes(dest, data)
    return dest
