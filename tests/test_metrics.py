"""vsq.statistics.metrics: small pure functions, checked on hand-computed cases."""

import numpy as np
import pytest

from vsq.statistics import metrics

SCORES = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
LABELS = np.array([1, 1, 2, 2])


def test_top1_and_top2():
    assert metrics.accuracy(metrics.top_k_hits(SCORES, LABELS, 1)) == 0.5
    assert metrics.accuracy(metrics.top_k_hits(SCORES, LABELS, 2)) == 0.75


def test_top_k_capped_at_class_count():
    assert metrics.top_k_hits(SCORES, LABELS, 5).all()


def test_per_class_and_confusion():
    predictions = SCORES.argmax(axis=1)
    assert metrics.per_class_accuracy(predictions, LABELS, 3) == [None, 0.5, 0.5]
    assert metrics.confusion_matrix(predictions, LABELS, 3).tolist() == [[0, 0, 0], [1, 1, 0], [1, 0, 1]]


def test_agreement_and_drop():
    assert metrics.agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert metrics.top1_drop_points(0.9, 0.885) == pytest.approx(1.5)
    assert metrics.top1_drop_points(0.8, 0.81) == pytest.approx(-1.0)
