"""README's claims about the library face, each with a test (issue 37): RunResult.flipped() and use_cache=False, and
no TensorFlow while the configurations are checked."""

import pytest

import tiny
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


def test_checking_a_configuration_imports_no_tensorflow(tmp_path, tiny_model):
    """README: every configuration is checked before anything heavy starts, without importing TensorFlow; a call
    of prepare() on a real Keras project (its model file, images and labels.json checked), not only the import."""
    import subprocess
    import sys

    tiny.write_data(tmp_path)
    config = tiny.write_config(tmp_path, source_keras_model=str(tiny_model))
    script = ("import sys; from vsq.pipeline.job import prepare; job = prepare(sys.argv[1]); "
              "print(len(job.calibration_images), sorted(m for m in ('tensorflow', 'keras', 'model_compression_toolkit')"
              " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split(maxsplit=1) == ["36", "[]\n"], done.stdout
