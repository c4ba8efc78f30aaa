"""vsq.tasks.detection.bootstrap: the paired drop of mAP with a seeded bootstrap interval over images."""

import numpy as np
import pytest

import tiny_detection
from vsq.tasks.detection import bootstrap, metrics


@pytest.fixture(scope="module")
def models():
    # The candidate: the same detections with boxes moved a little more (a quantized model's rounding), so the
    # pair is as correlated as a float model and its quantized copy are.
    truth, good, [worse] = tiny_detection.float_and_copies(5, 80, 0.7)
    return metrics.match(truth, good), metrics.match(truth, worse)


def test_resampling_draws_each_resample_as_many_images_as_there_are_and_is_seeded():
    w = bootstrap.weights(7, 50, seed=1)
    assert w.shape == (50, 7) and (w.sum(axis=1) == 7).all() and (w == np.round(w)).all()
    assert (w == bootstrap.weights(7, 50, seed=1)).all() and not (w == bootstrap.weights(7, 50, seed=2)).all()


def test_a_model_against_itself_drops_nothing_with_no_width(models):
    good, _ = models
    drops = bootstrap.paired_drops(good, good, resamples=50)
    assert {m: (d.drop_points, d.interval_points) for m, d in drops.items()} == {
        "map_50_95": (0.0, (0.0, 0.0)), "map_50": (0.0, (0.0, 0.0))}


def test_a_worse_copy_drops_with_an_interval_around_the_drop_and_above_zero(models):
    good, worse = models
    drop = bootstrap.paired_drops(good, worse, resamples=300, seed=4)["map_50_95"]
    assert drop.drop_points == pytest.approx(100 * (good.figures().map_50_95 - worse.figures().map_50_95))
    low, high = drop.interval_points
    assert 0 < low < drop.drop_points < high < 2 * drop.drop_points
    assert bootstrap.paired_drops(good, worse, resamples=300, seed=4)["map_50_95"] == drop  # seeded
    reversed_ = bootstrap.paired_drops(worse, good, resamples=300, seed=4)["map_50_95"]
    assert reversed_.interval_points == pytest.approx((-high, -low))


def test_the_paired_interval_is_narrower_than_resampling_each_model_on_its_own(models):
    # Pairing is the point: both models on the same resampled images, so what the images share cancels.
    good, worse = models
    drop = bootstrap.paired_drops(good, worse, resamples=300, seed=4)["map_50_95"]
    count = len(good.image_ids)
    unpaired = [100 * (good.figures(a).map_50_95 - worse.figures(b).map_50_95) for a, b in
                zip(bootstrap.weights(count, 300, seed=4), bootstrap.weights(count, 300, seed=5))]
    paired_width = drop.interval_points[1] - drop.interval_points[0]
    assert paired_width < 0.5 * (np.quantile(unpaired, 0.975) - np.quantile(unpaired, 0.025))


def test_models_matched_on_other_images_are_refused(models):
    good, _ = models
    other = metrics.match({"images": [{"id": 1, "width": 9, "height": 9}], "annotations": [],
                           "categories": [{"id": 1, "name": "a"}]}, [])
    with pytest.raises(ValueError, match="different images"):
        bootstrap.paired_drops(good, other)


@pytest.mark.parametrize("interval, rule, verdict", [
    ((0.5, 1.5), "point", "PASS"), ((0.5, 1.5), "confident", "PASS"),
    ((0.5, 2.5), "point", "PASS"), ((0.5, 2.5), "confident", "INCONCLUSIVE"),
    ((2.1, 2.5), "confident", "FAIL"), ((2.0, 2.5), "confident", "INCONCLUSIVE"),
])
def test_decisions_follow_the_classification_rules(interval, rule, verdict):
    drop = bootstrap.Drop("map_50_95", 0.5, 0.49, 1.0, interval, 0.95, 100, 0)
    assert bootstrap.decide(drop, 2.0, rule) == verdict
    with pytest.raises(ValueError, match="unknown rule"):
        bootstrap.decide(drop, 2.0, "maybe")


def test_floor():
    assert bootstrap.floor(30.0, 25.0) == "PASS" and bootstrap.floor(20.0, 25.0) == "FAIL"
    assert bootstrap.floor(0.0, None) == "PASS"


def test_draws_of_other_resamples_are_not_paired(models):
    good, worse = models
    with pytest.raises(ValueError, match="resampled differently"):
        bootstrap.drops(bootstrap.draw(good, resamples=50, seed=1), bootstrap.draw(worse, resamples=50, seed=2))
    once = bootstrap.drops(bootstrap.draw(good, resamples=50, seed=1), bootstrap.draw(worse, resamples=50, seed=1))
    assert once == bootstrap.paired_drops(good, worse, resamples=50, seed=1)


def _unblocked(matches, resamples, seed):
    """draw()'s resampled figures as they were made before blocks: every weight at once (np.add.at), scored 100
    resamples at a time."""
    rng = np.random.default_rng(seed)
    images = len(matches.image_ids)
    drawn = rng.integers(0, images, size=(resamples, images))
    counts = np.zeros((resamples, images))
    np.add.at(counts, (np.repeat(np.arange(resamples), images), drawn.ravel()), 1)
    parts = [matches.maps(counts[start:start + 100]) for start in range(0, resamples, 100)]
    return counts, [np.concatenate([part[n] for part in parts]) for n in (0, 1)]


@pytest.mark.parametrize("chunk", [7, 100])
def test_resamples_drawn_in_blocks_are_the_unblocked_numbers_bit_for_bit(models, monkeypatch, chunk):
    good, _ = models
    counts, (whole, at_50) = _unblocked(good, 230, seed=3)
    assert np.array_equal(bootstrap.weights(len(good.image_ids), 230, seed=3), counts)
    sizes = []
    monkeypatch.setattr(bootstrap, "CHUNK", chunk)
    monkeypatch.setattr(type(good), "maps", lambda self, w, maps=type(good).maps: sizes.append(len(w)) or maps(self, w))
    drawn = bootstrap.draw(good, resamples=230, seed=3)
    assert np.array_equal(drawn.resampled["map_50_95"], whole) and np.array_equal(drawn.resampled["map_50"], at_50)
    assert max(sizes) == chunk and sum(sizes) == 230  # never more than a block's weights at once
