"""README's claims about the library face, each with a test (issue 37): RunResult.flipped() and use_cache=False."""

import pytest

from test_gallery import write_flipping_project

pytestmark = pytest.mark.slow


def test_flipped_lists_the_images_the_quantized_file_classifies_differently_and_no_cache_rebuilds_them(
        tmp_path, tiny_model, shared_cache):
    import vsq

    config = write_flipping_project(tmp_path, tiny_model)
    warm = vsq.run(config, cache_dir=shared_cache, progress=False)
    flipped = warm.flipped()
    assert len(flipped) > 24 and flipped == warm.document["models"]["tflite_quantized"]["flipped"]
    for row in flipped:  # each row: the two models disagree, and its kind says who was right
        keras, model, truth = row["keras"]["class"], row["model"]["class"], row["true"]
        assert keras != model, row
        assert row["kind"] == ("loss" if keras == truth else "gain" if model == truth else "both_wrong"), row

    rebuilt = vsq.run(config, cache_dir=shared_cache, use_cache=False, progress=False)
    assert set(rebuilt.document["cache"].values()) == {"built"}, rebuilt.document["cache"]
    assert rebuilt.flipped() == flipped  # seeded and sorted: building again flips the same images
