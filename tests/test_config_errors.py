"""Configuration errors that a new user meets: every missing key in one message, and a non-square model told that
vsq supports square inputs only."""

import json

import pytest

import tiny
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError

SIX = ("batch_size", "input_tensor_size", "iteration_count", "output_dir", "evaluate_image_extension",
       "evaluate_result_dir")


def test_every_missing_key_is_named_in_one_message(project):
    data = {key: value for key, value in tiny.config_dict().items() if key not in SIX}
    with pytest.raises(ConfigError) as caught:
        prepare(tiny.write_config_dict(project, data))
    message = str(caught.value)
    assert all(f'"{key}": ' in message for key in SIX), message  # each with an example to add
    assert "is missing, and so are " in message and "\n" not in message


def test_one_missing_key_reads_as_before(project):
    data = {key: value for key, value in tiny.config_dict().items() if key != "batch_size"}
    with pytest.raises(ConfigError) as caught:
        prepare(tiny.write_config_dict(project, data))
    assert caught.value.key == "batch_size" and caught.value.message.startswith("is missing (all spec keys are "
                                                                                "required); add it, e.g. \"batch_size\"")


def test_a_non_square_model_is_told_that_inputs_must_be_square(project):
    from vsq.frameworks.keras.models import ModelInfo, check_model_matches

    config = prepare(tiny.write_config(project, input_tensor_size=32)).config
    with pytest.raises(ConfigError) as caught:
        check_model_matches(config, ModelInfo(((None, 32, 48, 3),), ((None, 3),)), 3)
    assert caught.value.key == "input_tensor_size"
    assert "the model takes 32x48 images" in str(caught.value) and "square inputs only" in str(caught.value)
    assert "set input_tensor_size to" not in str(caught.value), json.dumps(str(caught.value))
