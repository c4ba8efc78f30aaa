"""Configuration checks, one testcase each, so reviewers see what was verified per configuration."""

import pytest

from vsq.configuration.config import PATH_KEYS, schema
from vsq.util.paths import shown


def test_schema_valid(vsq_job, record_property):
    import jsonschema

    errors = [error.message for error in jsonschema.Draft202012Validator(schema()).iter_errors(vsq_job.config.raw)]
    record_property("schema_errors", len(errors))
    valid = not errors
    assert valid, f"{vsq_job.name}: {len(errors)} schema errors in {vsq_job.config.file.name}: {errors[:2]}"


@pytest.mark.parametrize("key", PATH_KEYS)
def test_path_is_not_a_symlink(vsq_job, key, record_property):
    path = getattr(vsq_job.config, key)
    record_property(key, str(path))
    real = not path.is_symlink()
    assert real, f"{vsq_job.name}: {key}: {shown(path)} is a symbolic link; point at the real path"


def test_batch_size_within_calibration_images(vsq_job, record_property):
    batch, images = vsq_job.config.batch_size, len(vsq_job.calibration_images)
    record_property("batch_size", batch)
    record_property("calibration_images", images)
    within = 1 <= batch <= images
    assert within, (
        f"{vsq_job.name}: batch_size {batch} is not within 1..{images} (the calibration images); lower it")


def test_input_tensor_size_matches_model(vsq_job, model_info, record_property):
    shape, size = tuple(model_info.input_shapes[0]), vsq_job.config.input_tensor_size
    record_property("input_tensor_size", size)
    record_property("model_input_shape", str(shape))
    matches = shape[1:] in ((size, size, 3), (None, None, 3))
    assert matches, (
        f"{vsq_job.name}: input_tensor_size {size} does not match the model's input {shape}")
