"""TFLite's reference kernels as a runtime of their own (a variant's "runtime": "tflite_reference", added through the
runtime registry): its scores are the BUILTIN_REF op resolver's, bit for bit, and not the optimized kernels' on a
model where the two differ; a variant naming it is evaluated on it, cached apart and recorded in results.json."""

import numpy as np
import pytest

import tiny
from vsq.runtimes import kinds


def _interpreter_scores(path, images, resolver: str) -> np.ndarray:
    """An independent TensorFlow interpreter of the file with the op resolver named, one image at a time."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1, experimental_op_resolver_type=getattr(
        tf.lite.experimental.OpResolverType, resolver))
    interpreter.allocate_tensors()
    [given], [taken] = interpreter.get_input_details(), interpreter.get_output_details()
    out = []
    for image in images:
        batch = image[None]
        if given["dtype"] == np.int8:
            scale, zero = given["quantization"]
            batch = np.clip(np.round(batch / scale + zero), -128, 127).astype(np.int8)
        interpreter.set_tensor(given["index"], batch)
        interpreter.invoke()
        scores = interpreter.get_tensor(taken["index"]).astype(np.float32)
        if taken["dtype"] == np.int8:
            scale, zero = taken["quantization"]
            scores = (scores - zero) * scale
        out.append(scores)
    return np.concatenate(out)


@pytest.fixture(scope="module")
def float_convolutions(tmp_path_factory):
    """A float .tflite of two 3x3 convolutions: TFLite's optimized and reference kernels sum in another order, so
    their scores differ in the last bits (64 of 80 below)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((16, 16, 3)), tf.keras.layers.Conv2D(32, 3, activation="relu"),
                                 tf.keras.layers.Conv2D(32, 3), tf.keras.layers.GlobalAveragePooling2D(),
                                 tf.keras.layers.Dense(10)])
    path = tmp_path_factory.mktemp("reference") / "model.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def test_the_reference_runtime_scores_are_builtin_refs_not_the_optimized_kernels(float_convolutions):
    from vsq.configuration.config import TFLiteRuntime

    images = np.random.default_rng(0).normal(size=(8, 16, 16, 3)).astype(np.float32)
    reference = _interpreter_scores(float_convolutions, images, "BUILTIN_REF")
    optimized = _interpreter_scores(float_convolutions, images, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")
    assert not np.array_equal(reference, optimized)  # else this model could not tell the kernels apart
    configured = TFLiteRuntime(num_threads=1, instances=1)
    ours = kinds.predictor(float_convolutions, configured, 2, "tflite_reference")(images)  # a pool of two
    assert np.array_equal(ours, reference)
    assert np.array_equal(kinds.predictor(float_convolutions, configured, 2)(images), optimized)  # the suffix's


def test_a_reference_kernels_variant_is_evaluated_on_them_and_says_so(tmp_path, tiny_model, shared_cache):
    import vsq
    from vsq.api import run_options
    from vsq.pipeline.job import prepare
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.results_check import load

    tiny.write_data(tmp_path, mislabelled=4)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model), variants=[
        {"kind": "tf_full_integer", "name": "int8"},
        {"kind": "tf_full_integer", "name": "int8_ref", "runtime": "tflite_reference"}])
    rows = vsq.run(config, cache_dir=shared_cache).document["variants"]["models"]
    written = load(tmp_path / "results" / "results.json")  # raises if `vsq report` would refuse it
    assert written["variants"]["models"]["int8_ref"]["runtime"]["name"] == "tflite_reference"
    ref, optimized = rows["int8_ref"], rows["int8"]
    assert ref["runtime"] == kinds.settings(kinds.TFLITE_REFERENCE) and ref["runtime"]["op_resolver"] == "builtin_ref"
    assert optimized["runtime"]["op_resolver"] == "builtin_without_default_delegates"  # the configured one
    assert ref["device"] == "TFLite CPU (reference kernels)" != optimized["device"]

    job = prepare(config)
    pipeline = Pipeline(job, run_options(tmp_path / "cache"))
    path = job.config.output_dir / "model_int8_ref.tflite"
    target, default = pipeline.file_target("int8_ref", path, runtime="tflite_reference"), pipeline.file_target("x", path)
    assert target.key != default.key  # the reference kernels' figures are cached apart from the configured runtime's
    preprocessing = job.config.preprocessing
    images = np.stack([preprocessing.normalize(preprocessing.decode(image).pixels)
                       for image in job.evaluation_set.paths]).astype(np.float32)
    reference = _interpreter_scores(path, images, "BUILTIN_REF")
    assert np.array_equal(target.predictor()(images), reference)
    labels = np.asarray(job.evaluation_set.labels)
    assert ref["top_1_accuracy"] == float(np.mean(reference.argmax(axis=1) == labels))
