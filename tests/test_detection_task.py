"""The detection task on the bundled detector (examples/detection.json): the pipeline's evaluation loop runs the
float Keras model, MCT's fake-quant model and the INT8 TFLite network (+ SSDPostProcess in float) through the task;
its figures are pycocotools' on the same detections, its checks pass, and a detector calibrated on black images
fails map_drop_within_threshold with its interval. Real TensorFlow, MCT and TFLite (~40 s, built once)."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from vsq.frameworks import for_config as framework_for
from vsq.pipeline.evaluate import evaluate_models
from vsq.pipeline.job import prepare
from vsq.tasks import TASKS
from vsq.tasks.detection import evaluation, metrics
from vsq.tasks.detection.checks import CHECKS

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "detection.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.detector import (DetectorPredictor, export_network_int8_tflite, load_detector,
                                               quantize_detector)

    folder = tmp_path_factory.mktemp("detection")
    job = prepare(CONFIG)
    config = job.config
    model = load_detector(config.source_keras_model)
    calibration = decode_calibration(job)
    fake_quant = quantize_detector(model, lambda: ([batch] for batch in calibration.iterate()))
    tflite = export_network_int8_tflite(fake_quant, folder / "model_quantized.tflite")
    black = quantize_detector(model, lambda: ([np.zeros_like(batch)] for batch in calibration.iterate()))
    predictors = {"keras": DetectorPredictor.keras(model), "keras_quantized": DetectorPredictor.keras(fake_quant),
                  "tflite_quantized": DetectorPredictor.tflite(tflite, fake_quant),
                  "black": DetectorPredictor.keras(black)}
    task = TASKS["detection"]
    evaluations = evaluate_models(predictors, config, job.evaluation_set, task=task)
    made = SimpleNamespace(name=config.name, config=config, job=job, framework=framework_for(config), task=task)
    made.core = task.core(made, {key: evaluations[key] for key in ("keras", "tflite_quantized", "keras_quantized")})
    made.evaluations, made.folder = evaluations, folder
    return made


def test_the_tasks_map_is_pycocotools_on_the_same_detections(run):
    truth = TASKS["detection"].truth(run.config, run.job.evaluation_set).coco
    for key in ("keras", "keras_quantized", "tflite_quantized"):
        stats = metrics.pycocotools_stats(truth, run.evaluations[key].detections)
        assert (run.core[f"map_50_95_{key}"], run.core[f"map_50_{key}"]) == pytest.approx((stats[0], stats[1]),
                                                                                          abs=1e-12)
    assert run.core["map_50_keras"] > 0.6  # the example's float detector is well above chance
    assert run.core["num_images"] == 200 and run.core["class_names"] == ["circle", "square", "star", "triangle"]


def test_the_checks_pass_on_the_example(run):
    verdicts = {spec.name: spec.run(run) for spec in CHECKS}
    assert {name: (check.word, check.message if not check.ok else "") for name, check in verdicts.items()} == {
        name: ("PASS", "") for name in verdicts}
    drop = verdicts["map_drop_within_threshold"].figures
    low, high = drop["map_50_95_drop_interval_points"]
    assert low <= drop["map_50_95_drop_points"] <= high and high - low < 3


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_detector_calibrated_on_black_images_fails_the_drop_with_its_interval(run):
    from vsq.tasks.detection import verdicts
    from vsq.tasks.detection.checks import thresholds

    truth = TASKS["detection"].truth(run.config, run.job.evaluation_set).coco
    black = metrics.pycocotools_stats(truth, run.evaluations["black"].detections)[0]
    assert black < run.core["map_50_95_keras"] - 0.05, "calibrating on black images should hurt the detector"
    core = TASKS["detection"].core(run, {"keras": run.evaluations["keras"], "tflite_quantized": run.evaluations["black"]})
    check = verdicts.map_drop_check(run.name, "the badly calibrated model", core, "tflite_quantized", "keras",
                                    thresholds(run.config))
    assert not check.ok and check.word == "FAIL" and "interval" in check.message
    assert check.figures["map_50_95_drop_interval_points"][0] > run.config.detection.max_map_drop


def test_an_evaluation_round_trips_through_the_cache_folder(run, tmp_path):
    evaluation.save(run.evaluations["tflite_quantized"], tmp_path)
    back = evaluation.load(tmp_path)
    assert back.detections == run.evaluations["tflite_quantized"].detections and back.images_used == 200
