"""quantized_file_is_integer_quantized on MCT's real INT8 export of tiny models: input-side preprocessing that MCT
leaves in float (Keras' Rescaling and Normalization) is allowed and listed; a computing layer in float fails."""

import re

import numpy as np
import pytest

import tiny

CHECK = "quantized_file_is_integer_quantized"


def preprocessing_layer(kind: str):
    import tensorflow as tf

    if kind == "rescaling":  # what Keras' MobileNetV3, EfficientNet and ConvNeXt start with
        return tf.keras.layers.Rescaling(1 / 127.5, offset=-1)
    if kind == "normalization":
        return tf.keras.layers.Normalization(mean=[127.5] * 3, variance=[5000.0] * 3)
    return None


def write_model(path, first: str | None, dense_activation: str | None = None):
    """Raw pixels -> `first` -> 1x1 convolution with ReLU -> pooling -> [Dense(dense_activation)] -> softmax over
    the colours (tiny.colour_head): right on tiny's images whatever the preprocessing layer does."""
    import tensorflow as tf

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    layer = preprocessing_layer(first)
    x = layer(inputs) if layer else inputs
    conv = tf.keras.layers.Conv2D(3, 1, activation="relu")
    x = tf.keras.layers.GlobalAveragePooling2D()(conv(x))
    hidden = tf.keras.layers.Dense(3, activation=dense_activation) if dense_activation else None
    head = tf.keras.layers.Dense(len(tiny.CLASSES), activation="softmax")
    outputs = head(hidden(x) if hidden else x)
    model = tf.keras.Model(inputs, outputs)
    conv.set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3), np.zeros(3, np.float32)])
    if hidden:
        hidden.set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    head.set_weights([10 * tiny.colour_head(), np.zeros(len(tiny.CLASSES), np.float32)])
    model.save(path)


def integer_check(root, first: str | None, dense_activation: str | None = None):
    from vsq.api import run_options
    from vsq.pipeline.job import prepare
    from vsq.pipeline.pipeline import Pipeline

    tiny.write_data(root, per_class=4)
    write_model(root / "model.h5", first, dense_activation)
    job = prepare(tiny.write_config(root, batch_size=4, preprocessing={"normalization": "[0,255]"}))
    return Pipeline(job, run_options(root / "cache", progress=False)).check(CHECK)


@pytest.mark.parametrize("first, ops", [
    ("rescaling", ["DEQUANTIZE", "MUL", "ADD"]),  # dequantize the quantized input, x * scale + offset
    ("normalization", ["DEQUANTIZE", "SUB", "MUL"]),  # (x - mean) * 1/sqrt(variance)
])
def test_input_side_preprocessing_in_float_is_allowed_and_listed(tmp_path, first, ops):
    check = integer_check(tmp_path, first)
    assert check.ok, check.message
    allowed = check.figures["input_float_ops"]
    assert [op.split()[0] for op in allowed] == ops
    # Keras numbers a layer name already used in the process (rescaling_1): other tests of the worker made one
    assert all(re.search(rf"/{first}(_\d+)?/", op) for op in allowed[1:]), allowed
    assert check.figures["float_activations"] == 0
    assert f"allowed {len(ops)} float ops before its first computing layer" in check.message


def test_a_computing_layer_in_float_still_fails(tmp_path):
    """MCT 2.6.1 exports a Dense with a fused ReLU after pooling in float (measured): not integer computation."""
    check = integer_check(tmp_path, "rescaling", dense_activation="relu")
    assert not check.ok
    assert check.figures["float_activations"] > 0
    assert "in float from its first computing layer on" in check.message
    assert "allowed 3 float ops before its first computing layer (DEQUANTIZE, MUL, ADD)" in check.message
