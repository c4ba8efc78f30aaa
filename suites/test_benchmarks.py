"""Timing benchmarks (pytest-benchmark), run in their own invocation:

    pytest suites/test_benchmarks.py --config configuration.json --benchmark-only \
        --benchmark-autosave --benchmark-storage=reports/benchmarks

Each figure is also kept in the benchmark's extra_info; a latency budget, where the configuration
sets one (thresholds.max_latency_ms), is asserted here. In ordinary runs these are deselected.
"""

import numpy as np
import pytest

from vsq.core.reference import KEYS as MODELS
BATCHED = 32


@pytest.fixture(scope="session")
def sample_images(vsq_job):
    """BATCHED preprocessed evaluation images (decoded once)."""

    config = vsq_job.config
    paths = [vsq_job.evaluation_set.paths[i % len(vsq_job.evaluation_set.paths)] for i in range(BATCHED)]
    return config.preprocessing.normalize(np.stack([config.preprocessing.decode(p).pixels for p in paths]))


# The file each model is: the user's Keras model, model.tflite, model_quantized.tflite, model_quantized.keras.
FILES = {"tflite": "float_tflite", "tflite_quantized": "quantized_tflite", "keras_quantized": "fake_quant_keras"}


def _file(request, vsq_job, model):
    return vsq_job.config.source_keras_model if model == "keras" else request.getfixturevalue(FILES[model])


def _predictor(request, vsq_job, model, batch):
    if model == "keras":
        return request.getfixturevalue("keras_model").predict_on_batch
    if model == "keras_quantized":
        from vsq.frameworks.keras.models import load_fake_quant_keras

        return load_fake_quant_keras(_file(request, vsq_job, model), vsq_job.config.allow_unsafe_model_code).predict_on_batch
    from vsq.runtimes.tflite import TFLiteClassifier

    return TFLiteClassifier(_file(request, vsq_job, model), vsq_job.config.tflite_runtime, batch_size=batch).predict


@pytest.mark.parametrize("batch", [1, BATCHED], ids=["batch1", f"batch{BATCHED}"])
@pytest.mark.parametrize("model", MODELS)
def test_latency_per_image(request, benchmark, vsq_job, model, batch, sample_images):
    predict = _predictor(request, vsq_job, model, batch)
    images = sample_images[:batch]
    predict(images)  # warm-up outside the measurement
    benchmark(predict, images)
    per_image_ms = benchmark.stats.stats.mean / batch * 1000
    benchmark.extra_info.update(model=model, file=str(_file(request, vsq_job, model)), batch=batch,
                                latency_ms_per_image=per_image_ms, runtime=vars(vsq_job.config.tflite_runtime))
    budget = vsq_job.config.thresholds.max_latency_ms.get(model)
    if budget is not None:
        benchmark.extra_info["max_latency_ms"] = budget
        within = per_image_ms <= budget
        assert within, (
            f"{vsq_job.name}: {_file(request, vsq_job, model).name}: {per_image_ms:.3f} ms per image (batch {batch}) is over thresholds.max_latency_ms "
            f"{budget} ms")


def test_evaluation_throughput(benchmark, request, vsq_job, keras_model, float_tflite, quantized_tflite):
    from vsq.pipeline.evaluate import evaluate_models

    predictors = {model: _predictor(request, vsq_job, model, vsq_job.config.tflite_runtime.batch_size)
                  for model in MODELS}
    benchmark.pedantic(evaluate_models, args=(predictors, vsq_job.config, vsq_job.evaluation_set), rounds=1,
                       iterations=1)
    images = len(vsq_job.evaluation_set.paths)
    benchmark.extra_info.update(images=images, models=len(MODELS),
                                images_per_second=images / benchmark.stats.stats.mean)


def test_quantization_wall_time(benchmark, tmp_path, vsq_job, keras_model, calibration):
    """The default recipe (MCT PTQ and INT8 export), uncached."""
    from vsq.frameworks.keras.recipes import build_variant, default_recipe

    config = vsq_job.config
    benchmark.pedantic(build_variant, args=(default_recipe(config), keras_model, calibration.iterate, config,
                                            tmp_path / "model_quantized.tflite"), rounds=1, iterations=1)
    benchmark.extra_info.update(iteration_count=config.iteration_count, batch_size=config.batch_size,
                                target_platform=config.target_platform)
