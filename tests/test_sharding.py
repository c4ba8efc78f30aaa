"""The interpreter pool: any number of instances gives the predictions and scores of one instance."""

import numpy as np
import pytest

import tiny
from vsq.pipeline import artifacts, evaluate
from vsq.frameworks.keras import quantize
from vsq.configuration.config import TFLiteRuntime
from vsq.pipeline.job import prepare
from vsq.pipeline.document import environment
from vsq.runtimes.tflite import TFLiteClassifier, shards

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tflite_files(tiny_model, tmp_path_factory):
    """model.tflite (TensorFlow's converter) and model_quantized.tflite (MCT PTQ, INT8 export) of the tiny model."""
    import tensorflow as tf

    from vsq.frameworks.keras.models import export_float_tflite

    folder = tmp_path_factory.mktemp("sharding")
    model = tf.keras.models.load_model(tiny_model, compile=False)
    rng = np.random.default_rng(0)
    batches = lambda: ([rng.random((8, tiny.SIZE, tiny.SIZE, 3), dtype=np.float32)] for _ in range(2))  # noqa: E731
    quantized = quantize.ptq(model, batches, "imx500")
    return {"float": export_float_tflite(model, folder / "model.tflite"),
            "int8": quantize.export_int8_tflite(quantized, folder / "model_quantized.tflite")}


@pytest.mark.parametrize("count, batch, parts, sizes", [
    (10, 1, 3, [3, 3, 4]),
    (10, 4, 2, [4, 6]),  # 3 batches: whole batches per slice, the padded last batch in the last one
    (10, 4, 3, [4, 4, 2]),
    (2, 1, 8, [1, 1]),  # fewer images than instances: no empty slice
    (0, 1, 2, [0]),
])
def test_shards_are_contiguous_and_cut_on_batch_boundaries(count, batch, parts, sizes):
    found = shards(count, batch, parts)
    assert [s.stop - s.start for s in found] == sizes
    assert found[0].start == 0 and found[-1].stop == count
    assert all(a.stop == b.start and a.stop % batch == 0 for a, b in zip(found, found[1:]))


@pytest.mark.parametrize("kind", ["float", "int8"])
@pytest.mark.parametrize("batch", [1, 4])
def test_pool_scores_are_bit_identical_to_one_instance(tflite_files, kind, batch):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 80, size=(37, tiny.SIZE, tiny.SIZE, 3))
    for i in range(37):
        pixels[i, ..., i % 3] += rng.integers(0, 150)  # one colour each, of varying strength: varied scores
    images = (pixels / 255.0).astype(np.float32)
    scores = {n: TFLiteClassifier(tflite_files[kind], TFLiteRuntime(), batch, instances=n).predict(images)
              for n in (1, 2, 3)}
    assert scores[1].shape == (37, 3) and len(np.unique(scores[1], axis=0)) > 10  # varied scores
    for n in (2, 3):
        np.testing.assert_array_equal(scores[n], scores[1], err_msg=f"{n} instances, batch {batch}")


def test_evaluation_is_identical_for_1_2_3_instances(project, tflite_files):
    tiny.write_data(project, mislabelled=4)  # not every prediction right: identity is not trivially Top-1 1.0
    job = prepare(tiny.write_config(project))
    results = {}
    for n in (1, 2, 3):
        predictors = {kind: TFLiteClassifier(path, TFLiteRuntime(), instances=n).predict
                      for kind, path in tflite_files.items()}
        results[n] = evaluate.evaluate_models(predictors, job.config, job.evaluation_set)
    for kind in tflite_files:
        assert results[1][kind].top1 < 1.0
        for n in (2, 3):
            np.testing.assert_array_equal(results[n][kind].predictions, results[1][kind].predictions)
            np.testing.assert_array_equal(results[n][kind].top5_hits, results[1][kind].top5_hits)


def test_instances_are_recorded_but_do_not_change_the_evaluation_key(project, monkeypatch):
    job = prepare(tiny.write_config(project))
    prints = artifacts.Fingerprints.of(job)
    keys = {n: artifacts.evaluation_key(job, prints, "digest", vars(TFLiteRuntime(instances=n))) for n in (None, 1, 3)}
    assert len(set(keys.values())) == 1
    assert keys[1] != artifacts.evaluation_key(job, prints, "digest", vars(TFLiteRuntime(batch_size=2, instances=1)))
    stack = {"tensorflow": "x", "ai_edge_litert": "y"}
    assert environment(stack, TFLiteRuntime(instances=3))["tflite_runtime"]["instances"] == 3
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    assert environment(stack, TFLiteRuntime())["tflite_runtime"]["instances"] == 7


def test_chunks_give_every_instance_a_few_whole_batches(project):
    config = prepare(tiny.write_config(project)).config
    assert evaluate.chunk_images(config) >= evaluate.CHUNK_IMAGES
    wide = prepare(tiny.write_config(project, tflite_runtime={"instances": 16, "batch_size": 2})).config
    assert evaluate.chunk_images(wide) == 16 * 2 * evaluate.IMAGES_PER_INSTANCE
    ten = prepare(tiny.write_config(project, tflite_runtime={"instances": 10})).config
    assert evaluate.chunk_images(ten) == 2 * evaluate.CHUNK_IMAGES  # 40 rounded up to whole Keras batches


def test_keras_sees_the_same_batches_whatever_the_chunk():
    seen = []

    def predict(images):
        seen.append(len(images))
        return images[:, :1] * 2

    images = np.arange(70, dtype=np.float32).reshape(70, 1)
    scores = evaluate.in_fixed_batches(predict, 32)(images)
    assert seen == [32, 32, 6] and (scores == images * 2).all()


@pytest.mark.parametrize("kind", ["onnxruntime_float", "onnxruntime_int8", "openvino_float", "openvino_int8"])
def test_onnxruntime_and_openvino_pools_score_as_one_instance(runtime_files, kind):
    """The same for the other runtimes' pools of single-threaded sessions and compiled models."""
    from vsq.runtimes.onnx_runtime import ONNXRuntimeClassifier
    from vsq.runtimes.openvino_runtime import OpenVINOClassifier

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 80, size=(37, tiny.SIZE, tiny.SIZE, 3))
    for i in range(37):
        pixels[i, ..., i % 3] += rng.integers(0, 150)
    images = (pixels / 255.0).astype(np.float32)
    classifier = ONNXRuntimeClassifier if kind.startswith("onnxruntime") else OpenVINOClassifier
    scores = {n: classifier(runtime_files[kind], instances=n).predict(images) for n in (1, 2, 3)}
    assert scores[1].shape == (37, 3) and len(np.unique(scores[1], axis=0)) > 10
    for n in (2, 3):
        np.testing.assert_array_equal(scores[n], scores[1], err_msg=f"{kind}: {n} instances")
