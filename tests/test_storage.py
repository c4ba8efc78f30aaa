"""Storage checks encode what each converter promises, on real conversions of a small depthwise model."""

import numpy as np
import pytest

from vsq.configuration.config import Variant
from vsq.runtimes.tflite_storage import describe_tflite, weight_problems

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def depthwise_model():
    """MobileNet-like: depthwise kernels of 3x3x64 = 576 elements (under TensorFlow's 1,024), one 1x1
    convolution of 64x64 = 4,096 elements, so the small float tensors outweigh the int8 one in bytes."""
    import tensorflow as tf

    inputs = tf.keras.Input((16, 16, 3))
    x = tf.keras.layers.Conv2D(64, 1)(inputs)  # 192 elements: stays float under dynamic range
    for _ in range(3):
        x = tf.keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = tf.keras.layers.Conv2D(64, 1)(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(3)(x))


def _convert(model, kind, dest):
    from vsq.frameworks.keras.recipes import build_variant

    batches = lambda: (np.random.default_rng(i).random((4, 16, 16, 3), dtype=np.float32) for i in range(2))  # noqa: E731
    return build_variant(Variant(kind, kind), model, batches, None, dest)


def test_dynamic_range_keeps_small_tensors_float_and_passes(depthwise_model, tmp_path):
    description = describe_tflite(_convert(depthwise_model, "tf_dynamic_range", tmp_path / "dr.tflite"))
    kernels = description["kernels"]
    assert sorted(k["type"] for k in kernels if k["elements"] >= 1024) == ["int8"]
    assert any(k["type"] == "float32" for k in kernels)  # the small ones, by TensorFlow's design
    weights = description["weights"]
    # The byte ratio that the check used to apply would call this correct file broken.
    assert weights["float32"]["bytes"] > weights["int8"]["bytes"]
    assert weight_problems("tf_dynamic_range", description) == []


def test_float_file_fails_every_integer_kind_naming_its_tensors(depthwise_model, tmp_path):
    description = describe_tflite(_convert(depthwise_model, "tf_float16", tmp_path / "f16.tflite"))
    assert weight_problems("tf_float16", description) == []
    for kind in ("tf_dynamic_range", "mct_ptq", "tf_full_integer"):
        (problem,) = weight_problems(kind, description)
        assert "in float" in problem and "CONV_2D" in problem, problem
