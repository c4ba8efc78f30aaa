"""vsq.tasks.detection.matching: per image, the two models' detections matched and a change score."""

import pytest

from vsq.tasks.detection import matching


def box(image_id, category, x, y, w=10, h=10, score=0.9):
    return {"image_id": image_id, "category_id": category, "bbox": [x, y, w, h], "score": score}


def test_iou():
    assert matching.iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert matching.iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert matching.iou([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0


def test_the_same_boxes_do_not_change_and_nothing_in_common_changes_fully():
    ours = [box(1, 1, 0, 0), box(1, 2, 30, 30)]
    found = {c.image_id: c for c in matching.changes([1, 2], ours, list(ours))}
    assert (found[1].matched, found[1].change, found[1].mean_iou) == (2, 0.0, 1.0)
    assert (found[2].reference, found[2].candidate, found[2].change) == (0, 0, 0.0)  # nothing found by either
    other_class = [box(1, 3, 0, 0), box(1, 3, 30, 30)]
    assert matching.changes([1], ours, other_class)[0].change == 1.0  # same place, other class: no match
    assert matching.changes([1], ours, [])[0].change == 1.0


def test_a_moved_box_and_a_lost_box_score_in_between():
    ours = [box(1, 1, 0, 0), box(1, 1, 50, 50)]
    theirs = [box(1, 1, 1, 0)]  # first box moved 1 px (IoU 9/11), second lost
    change = matching.changes([1], ours, theirs)[0]
    assert (change.matched, change.mean_iou) == (1, pytest.approx(90 / 110))
    assert change.change == pytest.approx(1 - (90 / 110) / 2)


def test_a_box_moved_past_half_overlap_is_not_a_match():
    assert matching.match_image([box(1, 1, 0, 0)], [box(1, 1, 4, 0)]) == []  # IoU 60/140 < 0.5


def test_each_detection_matches_once_best_overlap_first():
    ours = [box(1, 1, 0, 0), box(1, 1, 2, 0)]
    theirs = [box(1, 1, 2, 0)]
    assert matching.match_image(ours, theirs) == [(1, 0, 1.0)]


def test_low_scores_are_left_out_and_most_changed_ranks():
    ours = [box(1, 1, 0, 0), box(2, 1, 0, 0), box(3, 1, 0, 0)]
    theirs = [box(1, 1, 0, 0, score=0.1), box(2, 1, 0, 0), box(3, 1, 1, 1)]
    found = matching.changes([1, 2, 3], ours, theirs, min_score=0.5)
    assert [c.image_id for c in matching.most_changed(found, 5)] == [1, 3]
    assert [c.image_id for c in matching.most_changed(found, 1)] == [1]
