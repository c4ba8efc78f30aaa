"""The evaluation engine on real TFLite files: batching, int8 inputs, one decode per image."""

import numpy as np
import pytest

import tiny
from vsq.pipeline import evaluate
from vsq.configuration.config import TFLiteRuntime
from vsq.pipeline.job import prepare
from vsq.configuration.preprocessing import Preprocessing
from vsq.runtimes.tflite import TFLiteClassifier

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tflite_files(tiny_model, tmp_path_factory):
    """model.tflite (float) and a full-integer model with int8 input and output, from the tiny model."""
    import tensorflow as tf

    from vsq.frameworks.keras.models import export_float_tflite

    folder = tmp_path_factory.mktemp("tflite")
    model = tf.keras.models.load_model(tiny_model, compile=False)
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.random((1, 16, 16, 3), dtype=np.float32)] for _ in range(20))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    (folder / "int8.tflite").write_bytes(converter.convert())
    return {"float": export_float_tflite(model, folder / "model.tflite"), "int8": folder / "int8.tflite"}


@pytest.fixture
def images():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 80, size=(21, 16, 16, 3))
    for i in range(21):
        pixels[i, ..., i % 3] += 150  # strongly one colour each
    return (pixels / 255.0).astype(np.float32)


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_batched_and_batch_1_give_identical_predictions(tflite_files, images, kind):
    runtime = TFLiteRuntime()
    one = TFLiteClassifier(tflite_files[kind], runtime, batch_size=1)
    batched = TFLiteClassifier(tflite_files[kind], runtime, batch_size=8)  # 21 images: a padded last batch
    assert batched.batch_size == 8
    scores_one, scores_batched = one.predict(images), batched.predict(images)
    assert scores_one.shape == scores_batched.shape == (21, 3)
    assert (scores_one.argmax(axis=1) == scores_batched.argmax(axis=1)).all()
    np.testing.assert_allclose(scores_one, scores_batched, atol=1e-6)


def test_a_model_fixed_to_one_image_falls_back_to_batch_1(tmp_path, images):
    """docs/configuration.md: tflite_runtime.batch_size falls back to 1 where a model cannot be resized; here the
    mean colour joined to a constant of one row (a fourth, zero score), which a batch of 8 cannot be joined to."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, 16, 16, 3], tf.float32)])
    def fixed(x):
        return tf.nn.softmax(tf.concat([tf.reduce_mean(x, axis=[1, 2]), tf.zeros([1, 1])], axis=1))

    path = tmp_path / "fixed.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_concrete_functions([fixed.get_concrete_function()], fixed).convert())
    classifier = TFLiteClassifier(path, TFLiteRuntime(), batch_size=8)
    assert classifier.batch_size == 1 and list(classifier.input["shape"]) == [1, 16, 16, 3]
    assert (classifier.predict(images).argmax(axis=1) == np.arange(21) % 3).all()  # each image its own colour


def test_int8_input_is_quantized_with_scale_and_zero_point(tflite_files, images):
    classifier = TFLiteClassifier(tflite_files["int8"], TFLiteRuntime())
    assert classifier.input["dtype"] == np.int8
    expected = np.array([2, 1, 0] * 7)  # channel 0 red -> class 2 ("red"), 1 -> green, 2 -> blue
    assert (classifier.predict(images).argmax(axis=1) == expected).all()


def test_every_image_is_decoded_once_for_all_models(project, tflite_files, monkeypatch):
    job = prepare(tiny.write_config(project))
    calls = []
    real_decode = Preprocessing.try_decode
    monkeypatch.setattr(Preprocessing, "try_decode", lambda self, path: calls.append(path) or real_decode(self, path))
    runtime = TFLiteRuntime()
    predictors = {"a": TFLiteClassifier(tflite_files["float"], runtime).predict,
                  "b": TFLiteClassifier(tflite_files["int8"], runtime, batch_size=4).predict}
    results = evaluate.evaluate_models(predictors, job.config, job.evaluation_set)
    assert sorted(calls) == sorted(job.evaluation_set.paths)
    assert results["a"].top1 == results["b"].top1 == 1.0
    assert (results["a"].predictions == results["b"].predictions).all()


def test_chunks_keep_order_and_bound_memory(project):
    job = prepare(tiny.write_config(project))
    chunks = list(evaluate.decoded_chunks(job.config, job.evaluation_set, chunk=5))
    assert [len(c.images) for c in chunks] == [5] * 7 + [1]
    assert np.concatenate([c.indices for c in chunks]).tolist() == list(range(36))
    first = np.concatenate([c.images for c in chunks])
    assert first.shape == (36, 16, 16, 3)
    again = np.concatenate([c.images for c in evaluate.decoded_chunks(job.config, job.evaluation_set, chunk=36)])
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("resolver", ["builtin", "builtin_without_default_delegates", "builtin_ref"])
def test_litert_and_tensorflow_interpreters_agree(tflite_files, images, resolver):
    scores = {name: TFLiteClassifier(tflite_files["int8"], TFLiteRuntime(name, resolver)).predict(images)
              for name in ("tensorflow", "litert")}
    assert (scores["tensorflow"].argmax(axis=1) == scores["litert"].argmax(axis=1)).all()
    assert (scores["litert"].argmax(axis=1) == np.array([2, 1, 0] * 7)).all()
