"""Configuration checks, one testcase each, so reviewers see what was verified per configuration."""

import pytest

from vsq.config import PATH_KEYS, schema


def test_schema_valid(vsq_job, record_property):
    import jsonschema

    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(vsq_job.config.raw))
    record_property("schema_errors", len(errors))
    assert not errors, [error.message for error in errors]


@pytest.mark.parametrize("key", PATH_KEYS)
def test_path_is_not_a_symlink(vsq_job, key, record_property):
    path = getattr(vsq_job.config, key)
    record_property(key, str(path))
    assert not path.is_symlink(), f"{key}: {path} is a symbolic link"


def test_batch_size_within_calibration_images(vsq_job, record_property):
    config = vsq_job.config
    record_property("batch_size", config.batch_size)
    record_property("calibration_images", len(vsq_job.calibration_images))
    assert 1 <= config.batch_size <= len(vsq_job.calibration_images)


def test_input_tensor_size_matches_model(vsq_job, model_info, record_property):
    shape = model_info.input_shapes[0]
    record_property("input_tensor_size", vsq_job.config.input_tensor_size)
    record_property("model_input_shape", str(shape))
    assert shape[1:] in ((vsq_job.config.input_tensor_size,) * 2 + (3,), (None, None, 3))
