"""vsq.tasks.detection.document and verdicts: the detection part of results.json and the three mAP checks."""

import pytest

import tiny_detection
from vsq.tasks.detection import document as detection_document
from vsq.tasks.detection import metrics
from vsq.tasks.detection.verdicts import (Thresholds, float_beats_chance_check, map_drop_check, map_floor_check)

SETTINGS = detection_document.Settings(resamples=200)


@pytest.fixture(scope="module")
def data():
    truth, floating, [close, broken] = tiny_detection.float_and_copies(2, 60, 0.2, 4)
    return truth, {"keras": floating, "tflite_quantized": close, "broken": broken}


@pytest.fixture(scope="module")
def document(data):
    truth, found = data
    return detection_document.build(truth, found, "keras", "tflite_quantized", SETTINGS)


def test_figures_are_pycocotools_on_each_models_detections(data, document):
    truth, found = data
    for key in found:
        stats = metrics.pycocotools_stats(truth, found[key])
        assert (document[f"map_50_95_{key}"], document[f"map_50_{key}"]) == pytest.approx((stats[0], stats[1]),
                                                                                             abs=1e-12)
    assert document["map_drop_points"] == pytest.approx(100 * (document["map_50_95_keras"]
                                                               - document["map_50_95_tflite_quantized"]))
    assert "paired" not in document["models"]["keras"] and document["num_images"] == 60


def test_a_close_copy_passes_and_a_broken_one_fails_with_its_interval(document):
    close = map_drop_check("cfg.json", "model_quantized.tflite", document, "tflite_quantized", "keras", Thresholds(2.0))
    assert close.ok and close.word == "PASS"
    broken = map_drop_check("cfg.json", "broken", document, "broken", "keras", Thresholds(2.0, decision_rule="confident"))
    assert not broken.ok and broken.word == "FAIL"
    assert "mAP@[.5:.95]" in broken.message and "interval" in broken.message and "max_map_drop is 2.0" in broken.message
    assert broken.figures["map_50_95_drop_interval_points"][0] > 2.0


def test_an_interval_straddling_the_threshold_is_inconclusive_under_the_confident_rule(document):
    paired = document["models"]["broken"]["paired"]["keras"]
    low, high = paired["map_50_95"]["interval_points"]
    limit = max((low + high) / 2, paired["map_50"]["interval_points"][1] + 1)  # mAP@.5 passes, mAP straddles
    for inconclusive, ok in (("fail", False), ("pass", True)):
        check = map_drop_check("c", "broken", document, "broken", "keras",
                               Thresholds(limit, decision_rule="confident", inconclusive=inconclusive))
        assert (check.word, check.ok) == ("INCONCLUSIVE", ok)


def test_floor_and_chance(document):
    assert map_floor_check("c", "q", document, "tflite_quantized", Thresholds(min_map=1.0)).ok
    low = map_floor_check("c", "q", document, "tflite_quantized", Thresholds(min_map=99.0))
    assert not low.ok and "below detection.min_map 99" in low.message
    assert map_floor_check("c", "q", document, "tflite_quantized", Thresholds()).ok  # above chance
    assert float_beats_chance_check("c", document).ok
    assert document["chance"]["map_50"] < 0.1 < document["map_50_keras"]


def test_a_float_model_that_ignores_the_image_is_near_chance_and_its_drops_meaningless(data):
    truth, found = data
    blind = detection_document.shuffled(found["keras"], [i["id"] for i in truth["images"]])
    doc = detection_document.build(truth, {"keras": blind, "q": blind}, "keras", "q", SETTINGS)
    check = float_beats_chance_check("c", doc)
    assert not check.ok and "check the box format" in check.message
    drop = map_drop_check("c", "q", doc, "q", "keras", Thresholds())
    assert not drop.ok and "meaningless" in drop.message


def test_the_most_changed_images_come_first(document):
    changes = document["changes"]
    assert 0 < len(changes) <= detection_document.MOST_CHANGED
    assert [c["change"] for c in changes] == sorted((c["change"] for c in changes), reverse=True)


def test_the_document_is_plain_json(document):
    import json

    assert json.loads(json.dumps(document)) == document  # numpy integers (pycocotools' image ids) would not dump


class _Counted(list):
    """A list that counts how many times it is scanned."""
    scans = 0

    def __iter__(self):
        type(self).scans += 1
        return super().__iter__()


def test_the_changed_images_boxes_take_the_same_scans_of_the_detections_however_many_are_listed(data, monkeypatch):
    truth, found = data
    scans, listed = [], []
    for most in (2, 12):
        monkeypatch.setattr(detection_document, "MOST_CHANGED", most)
        _Counted.scans = 0
        made = detection_document.build(truth, {"keras": _Counted(found["keras"]), "q": found["broken"]}, "keras",
                                        "q", detection_document.Settings(resamples=2))
        scans.append(_Counted.scans)
        listed.append(len(made["changes"]))
    assert listed == [2, 12] and scans[0] == scans[1]
