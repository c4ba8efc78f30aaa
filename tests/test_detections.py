"""vsq.core.detections: the post-processing's outputs as Detections, whatever the batch (an empty one too)."""

import numpy as np
import pytest

from vsq.core.detections import Detections, as_detections, concatenate


@pytest.mark.parametrize("images", [0, 1, 3])
@pytest.mark.parametrize("count_shape", ["(N, 1)", "(N,)"])
def test_as_detections_takes_any_batch_with_either_count(images, count_shape):
    n = 5
    count = np.arange(images, dtype=np.int64).reshape(-1, 1) if count_shape == "(N, 1)" else np.arange(images)
    got = as_detections([np.zeros((images, n, 4), np.float64), np.zeros((images, n)), np.ones((images, n), np.int64),
                         count])
    assert isinstance(got, Detections)
    assert [a.shape for a in got] == [(images, n, 4), (images, n), (images, n), (images,)]
    assert [a.dtype for a in got] == [np.float32, np.float32, np.float32, np.int32]
    assert got.count.tolist() == list(range(images))


def test_an_empty_batch_joins_the_others():
    empty = as_detections([np.zeros((0, 2, 4)), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 1), np.int32)])
    two = as_detections([np.ones((2, 2, 4)), np.ones((2, 2)), np.ones((2, 2)), np.array([[1], [2]])])
    joined = concatenate([empty, two, empty])
    assert [a.shape for a in joined] == [(2, 2, 4), (2, 2), (2, 2), (2,)] and joined.count.tolist() == [1, 2]
