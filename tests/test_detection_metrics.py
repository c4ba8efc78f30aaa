"""vsq.tasks.detection.metrics: pycocotools' figures, accumulated from its per-image matches with image weights."""

import numpy as np
import pytest

import tiny_detection
from vsq.tasks.detection import metrics


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    truth = tiny_detection.ground_truth(60, rng)
    return truth, tiny_detection.detections(truth, rng)


def test_figures_equal_pycocotools_own_summary(case):
    truth, found = case
    figures = metrics.figures(truth, found)
    stats = metrics.pycocotools_stats(truth, found)
    assert figures.map_50_95 == pytest.approx(stats[0], abs=1e-12)
    assert figures.map_50 == pytest.approx(stats[1], abs=1e-12)
    assert figures.recall == pytest.approx(stats[8], abs=1e-12)
    assert 0.3 < figures.map_50_95 < figures.map_50 < 1  # the generated noise leaves a middling, non-trivial figure


def test_per_class_ap_is_pycocotools_precision_per_category(case):
    from pycocotools.cocoeval import COCOeval

    truth, found = case
    evaluation = COCOeval(*metrics.coco_pair(truth, found), "bbox")
    with metrics._quiet():
        evaluation.evaluate()
        evaluation.accumulate()
    expected = {c: float(evaluation.eval["precision"][:, :, k, 0, 2].mean())
                for k, c in enumerate(evaluation.params.catIds)}
    assert metrics.figures(truth, found).per_class_ap == pytest.approx(expected, abs=1e-12)


def test_perfect_detections_score_one_and_none_score_zero(case):
    truth, _ = case
    perfect = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9}
               for a in truth["annotations"]]
    assert metrics.figures(truth, perfect).map_50_95 == pytest.approx(1.0)
    empty = metrics.figures(truth, [])
    assert (empty.map_50_95, empty.map_50, empty.recall) == (0.0, 0.0, 0.0)
    assert metrics.pycocotools_stats(truth, [])[:2] == [0.0, 0.0]


def test_weights_equal_pycocotools_on_the_resampled_images_themselves(case):
    # A resample drawn with repeats, given to pycocotools as a new data set (a drawn image twice = two images):
    # the weighted accumulation must give the same figures without matching anything again.
    truth, found = case
    matches = metrics.match(truth, found)
    rng = np.random.default_rng(11)
    for _ in range(3):
        drawn = rng.integers(0, len(matches.image_ids), len(matches.image_ids))
        copy = {"images": [], "annotations": [], "categories": truth["categories"]}
        copied = []
        for new_id, index in enumerate(drawn, start=1):
            old = matches.image_ids[index]
            copy["images"].append({**next(i for i in truth["images"] if i["id"] == old), "id": new_id})
            copy["annotations"] += [{**a, "id": len(copy["annotations"]) + n + 1, "image_id": new_id}
                                    for n, a in enumerate(a for a in truth["annotations"] if a["image_id"] == old)]
            copied += [{**d, "image_id": new_id} for d in found if d["image_id"] == old]
        weighted = matches.figures(np.bincount(drawn, minlength=len(matches.image_ids)))
        stats = metrics.pycocotools_stats(copy, copied)
        assert (weighted.map_50_95, weighted.map_50, weighted.recall) == pytest.approx(
            (stats[0], stats[1], stats[8]), abs=1e-12)


def test_a_category_with_no_object_is_left_out_of_the_mean():
    truth = {"images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 20], "area": 400,
                              "iscrowd": 0}],
             "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    found = [{"image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 20], "score": 0.8},
             {"image_id": 1, "category_id": 2, "bbox": [30, 30, 10, 10], "score": 0.9}]
    figures = metrics.figures(truth, found)
    assert figures.per_class_ap == {1: pytest.approx(1.0), 2: None}
    assert figures.map_50_95 == pytest.approx(1.0)


def test_faster_coco_eval_agrees_with_pycocotools(case):
    truth, found = case
    import faster_coco_eval
    from faster_coco_eval import COCO, COCOeval_faster

    ground = COCO(truth)
    evaluation = COCOeval_faster(ground, ground.loadRes(found), "bbox", print_function=lambda *a: None)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    figures = metrics.figures(truth, found)
    assert (evaluation.stats[0], evaluation.stats[1], evaluation.stats[8]) == pytest.approx(
        (figures.map_50_95, figures.map_50, figures.recall), abs=1e-6), faster_coco_eval.__version__


def test_the_ground_truth_is_left_as_it_was(case):
    import copy

    truth, found = case
    before = copy.deepcopy(truth)
    metrics.figures(truth, found)
    metrics.pycocotools_stats(truth, found)
    assert truth == before


def test_many_weightings_at_once_equal_one_at_a_time(case):
    truth, found = case
    matches = metrics.match(truth, found)
    rng = np.random.default_rng(0)
    weights = np.stack([np.bincount(rng.integers(0, 60, 60), minlength=60) for _ in range(20)]
                       + [np.ones(60), np.r_[np.zeros(59), 1.0]])
    together = matches.maps(weights)
    alone = [matches.figures(w) for w in weights]
    assert together[0] == pytest.approx([f.map_50_95 for f in alone], abs=1e-12)
    assert together[1] == pytest.approx([f.map_50 for f in alone], abs=1e-12)
