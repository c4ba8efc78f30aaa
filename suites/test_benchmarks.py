"""Timing benchmarks (pytest-benchmark), run in their own invocation:

    pytest suites/test_benchmarks.py --config configuration.json --benchmark-only \
        --benchmark-autosave --benchmark-storage=reports/benchmarks

Each figure is also kept in the benchmark's extra_info; a latency budget, where the configuration
sets one (thresholds.max_latency_ms), is asserted here. In ordinary runs these are deselected.
"""

import numpy as np
import pytest

MODELS = ("keras", "tflite", "tflite_quantized")
BATCHED = 32


@pytest.fixture(scope="session")
def sample_images(vsq_job):
    """BATCHED preprocessed evaluation images (decoded once)."""
    from vsq.images import decode, normalize

    config = vsq_job.config
    paths = [vsq_job.evaluation.paths[i % len(vsq_job.evaluation.paths)] for i in range(BATCHED)]
    pixels = np.stack([decode(p, config.input_tensor_size, config.preprocessing.resize) for p in paths])
    return normalize(pixels, config.preprocessing.mean_std)


def _predictor(request, vsq_job, model, batch):
    if model == "keras":
        return request.getfixturevalue("keras_model").predict_on_batch
    from vsq.tflite import TFLiteClassifier

    path = request.getfixturevalue("float_tflite" if model == "tflite" else "quantized_tflite")
    return TFLiteClassifier(path, vsq_job.config.tflite_runtime, batch_size=batch).predict


@pytest.mark.parametrize("batch", [1, BATCHED], ids=["batch1", f"batch{BATCHED}"])
@pytest.mark.parametrize("model", MODELS)
def test_latency_per_image(request, benchmark, vsq_job, model, batch, sample_images):
    predict = _predictor(request, vsq_job, model, batch)
    images = sample_images[:batch]
    predict(images)  # warm-up outside the measurement
    benchmark(predict, images)
    per_image_ms = benchmark.stats.stats.mean / batch * 1000
    benchmark.extra_info.update(model=model, batch=batch, latency_ms_per_image=per_image_ms,
                                runtime=vars(vsq_job.config.tflite_runtime))
    budget = vsq_job.config.thresholds.max_latency_ms.get(model)
    if budget is not None:
        benchmark.extra_info["max_latency_ms"] = budget
        within = per_image_ms <= budget
        assert within, (
            f"{vsq_job.name}: {model}: {per_image_ms:.3f} ms per image (batch {batch}) is over thresholds.max_latency_ms "
            f"{budget} ms")


def test_evaluation_throughput(benchmark, request, vsq_job, keras_model, float_tflite, quantized_tflite):
    from vsq.evaluate import evaluate_models

    predictors = {model: _predictor(request, vsq_job, model, vsq_job.config.tflite_runtime.batch_size)
                  for model in MODELS}
    benchmark.pedantic(evaluate_models, args=(predictors, vsq_job.config, vsq_job.evaluation), rounds=1,
                       iterations=1)
    images = len(vsq_job.evaluation.paths)
    benchmark.extra_info.update(images=images, models=len(MODELS),
                                images_per_second=images / benchmark.stats.stats.mean)


def test_quantization_wall_time(benchmark, tmp_path, vsq_job, keras_model, calibration):
    from vsq.quantize import export_int8_tflite, post_training_quantize

    config = vsq_job.config

    def quantize_and_export():
        data = lambda: ([calibration.batch(i)] for i in range(config.iteration_count))  # noqa: E731
        export_int8_tflite(post_training_quantize(keras_model, data, config.target_platform),
                           tmp_path / "model_quantized.tflite")

    benchmark.pedantic(quantize_and_export, rounds=1, iterations=1)
    benchmark.extra_info.update(iteration_count=config.iteration_count, batch_size=config.batch_size,
                                target_platform=config.target_platform)
