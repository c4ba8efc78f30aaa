"""A detector's baseline (vsq.sections.baseline): its entry keeps each model's mAP@[.5:.95] (its DropFigure's key),
today's is compared with it as points (the entry keeps no detections to pair on), the baseline key is read with
"task": "detection", and `vsq report --baseline-candidate` takes a detector's run. The real run failing it:
tests/test_checks_fail_for_real.py::test_a_detection_baseline_with_a_higher_map_than_todays_fails_the_baseline_drop_as_points.
"""

from pathlib import Path

import pytest

from vsq.configuration.config import Thresholds
from vsq.sections import baseline
from vsq.sections.baseline_origin import configuration_digest

POINT, CONFIDENT = Thresholds(), Thresholds(decision_rule="confident")


def detector(quantized: float = 0.51) -> dict:
    """A detector's results.json, the parts a baseline reads."""
    return {"task": "detection", "created": "2026-12-06T10:00:00+0000", "num_images": 200,
            "models": {"keras": {"map_50_95": 0.53, "map_50": 0.75}, "tflite_quantized": {"map_50_95": quantized}},
            "environment": {"vsq": "1", "tensorflow": "2.15"},
            "configuration": {"name": "det", "task": "detection", "detection": {"box_order": "yxyx", "max_map_drop": 1.0}}}


def test_a_detectors_entry_keeps_its_map_per_model_and_no_per_image_record():
    entry = baseline.entry(detector())
    assert entry["map_50_95"] == {"keras": 0.53, "tflite_quantized": 0.51}
    assert "top_1" not in entry and "per_image" not in entry and entry["num_images"] == 200


def test_todays_map_is_compared_with_the_accepted_one_as_points_and_says_why():
    accepted = baseline.entry(detector(quantized=0.53))
    dropped = baseline.compare(detector(quantized=0.51), accepted, "tflite_quantized", 0.5, POINT)
    assert dropped.drop_points == pytest.approx(2.0) and not dropped.ok and dropped.paired is None
    assert dropped.unpaired == "a detector's baseline keeps no detections"
    within = baseline.compare(detector(quantized=0.527), accepted, "tflite_quantized", 0.5, CONFIDENT)
    assert within.drop_points == pytest.approx(0.3) and within.ok and within.decision is None
    # An entry a classifier's run accepted under the same name has no mAP: nothing accepted to compare with.
    assert baseline.compare(detector(), {"top_1": {"tflite_quantized": 0.9}}, "tflite_quantized", 0.5,
                            POINT).accepted is None


def test_a_detectors_thresholds_do_not_change_its_baselines_digest_but_how_boxes_are_read_does():
    configuration = detector()["configuration"]
    stricter = {**configuration, "detection": {**configuration["detection"], "max_map_drop": 0.2, "min_map": 30,
                                               "bootstrap_resamples": 2000}}
    turned = {**configuration, "detection": {**configuration["detection"], "box_order": "xyxy"}}
    assert configuration_digest(stricter) == configuration_digest(configuration) != configuration_digest(turned)


def test_the_baseline_key_is_read_with_the_detection_task(project):
    import tiny
    from vsq.configuration.config import load_config

    config = load_config(tiny.write_config(project, task="detection", baseline="baselines/nightly.json"))
    assert config.baseline == project / "baselines" / "nightly.json"


def test_the_baseline_candidate_takes_a_detectors_run():
    from vsq.reporting.report import Run, baseline_candidate

    runs = [Run("det", Path("results.json"), detector()),
            Run("old", Path("old.json"), {**detector(), "task": "classification",
                                          "configuration": {"name": "old"}})]  # a classifier without per_image
    assert baseline_candidate(runs)["configurations"] == {"det": baseline.entry(detector())}
