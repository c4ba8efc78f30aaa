"""What a PyTorch configuration's cached facts and messages depend on: the model interface follows
input_tensor_size (a PyTorch model keeps no input shape), and a state_dict that does not fit its architecture is
named by its first mismatching key with both shapes."""

import pytest
import torch

from test_pytorch_framework import LAYERS, config, project  # noqa: F401  (project is a fixture)
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError
from vsq.frameworks.pytorch.architecture import sequential
from vsq.frameworks.pytorch.models import load_pytorch_model


def model_interface(project, size: int):
    from vsq.api import run_options
    from vsq.pipeline.pipeline import Pipeline

    pipeline = Pipeline(prepare(config(project, input_tensor_size=size)), run_options(project / "cache", progress=False))
    return pipeline.model_info, pipeline.cache_log["model interface"]


def test_the_model_interface_is_described_again_at_another_input_tensor_size(project):
    """The colour model pools to one value per channel, so it runs at any size: the size is the configuration's."""
    assert model_interface(project, 16)[1] == "built"
    assert model_interface(project, 16)[1] == "hit"
    info, how = model_interface(project, 18)
    assert info.input_shapes == ((None, 18, 18, 3),) and how == "built"


def test_a_state_dict_that_does_not_fit_names_the_first_mismatching_key_and_both_shapes(project):
    wider = [["Conv2d", 3, 4, 1, {"bias": False}], *LAYERS[1:3], ["Linear", 4, 3]]  # 4 channels where 3 are built
    torch.save(sequential(wider).state_dict(), project / "model.pt")
    with pytest.raises(ConfigError) as caught:
        load_pytorch_model(prepare(config(project)).config)
    message = str(caught.value)
    assert "'0.weight' of shape (4, 3, 1, 1), the architecture (3, 3, 1, 1)" in message, message
    assert "\n" not in message and caught.value.key == "source_pytorch_model"
