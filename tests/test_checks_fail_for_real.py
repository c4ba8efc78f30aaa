"""Checks failing on a real wrong input through the real pipeline (issue 37), where no other test shows it."""

import pytest

import tiny

pytestmark = pytest.mark.slow


def run(config_file, cache):
    from vsq.configuration.job import prepare
    from vsq.pipeline.cache import Cache
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.reporting.progress import Progress

    return Pipeline(prepare(config_file), RunOptions(Cache(cache), progress=Progress(False))).result


def test_calibration_images_of_one_constant_colour_fail_the_decode_check(tmp_path, tiny_model):
    """A dataset_image_dir of flat grey frames (a camera's lens cap left on): they decode, and say nothing."""
    from PIL import Image

    tiny.write_data(tmp_path)
    for path in (tmp_path / "images").rglob("*.jpg"):
        Image.new("RGB", (20, 20), (128, 128, 128)).save(path)
    result = run(tiny.write_config(tmp_path, source_keras_model=str(tiny_model)), tmp_path / "cache")
    failures = result.failures()
    assert failures["calibration_images_decode"] == ("configuration: every calibration image decodes to the same "
                                                     "constant colour; check dataset_image_dir"), failures
