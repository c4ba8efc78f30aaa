"""The detection task on the bundled detector (examples/detection.json): the pipeline's evaluation loop runs the
float Keras model, MCT's fake-quant model and the INT8 TFLite network (+ SSDPostProcess in float) through the task;
its figures are pycocotools' on the same detections, its checks pass, and a detector calibrated on black images
fails map_drop_within_threshold with its interval. Real TensorFlow, MCT and TFLite (~40 s, built once; the
MCT detector is the session's, shared with tests/test_detection_model.py)."""

from pathlib import Path

import pytest

import detection_example
from vsq.tasks import TASKS
from vsq.tasks.detection import evaluation, metrics
from vsq.tasks.detection.checks import CHECKS

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "detection.json"


# MCT's outlier filter divides by a zero spread on the black calibration images
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                                                           "ignore:invalid value:RuntimeWarning")]


@pytest.fixture(scope="module")
def run(tmp_path_factory, example_detector):
    return detection_example.build(CONFIG, tmp_path_factory.mktemp("detection"), example_detector)


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


def test_a_detector_calibrated_on_black_images_fails_the_drop_with_its_interval(run):
    """map_drop_within_threshold's verdict (verdicts.map_drop_check) on a real, badly calibrated detector."""
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


def test_the_most_changed_images_are_drawn_with_both_models_boxes(run):
    from vsq.reporting.detection_gallery import changes_html

    changes = run.core["changes"]
    assert all(row["file"].startswith(str(run.config.evaluate_image_dir)) for row in changes)
    page = changes_html(run.name, run.core, folders=[run.config.evaluate_image_dir])
    assert page.count("data:image/png;base64,") == len(changes)
