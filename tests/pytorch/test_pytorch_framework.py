"""The PyTorch framework in its own environment (.venv-torch): loading only what is safe to load, the
architecture's builder, MCT's quantized model and its ONNX export agreeing, the pool's scores.

tests/test_pytorch.py runs this file with .venv-torch's pytest; the main venv has no torch."""


import sys

import numpy as np
import pytest
import torch

import tiny
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError
from vsq.frameworks.pytorch.architecture import sequential

LAYERS = [["Conv2d", 3, 3, 1, {"bias": False}], ["AdaptiveAvgPool2d", 1], ["Flatten"], ["Linear", 3, 3]]
SEQUENTIAL = "vsq.frameworks.pytorch.architecture:sequential"


def colour_model() -> torch.nn.Module:
    """Mean colour -> class (tests/tiny.py's classes), exact on tiny's images."""
    model = sequential(LAYERS)
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(3).reshape(3, 3, 1, 1))
        model[3].weight.zero_()
        model[3].bias.zero_()
        for cls, name in enumerate(tiny.CLASSES):
            model[3].weight[cls, tiny.CHANNEL[name]] = 10.0
    return model.eval()


@pytest.fixture
def project(tmp_path):
    tiny.write_data(tmp_path)
    torch.save(colour_model().state_dict(), tmp_path / "model.pt")
    return tmp_path


def config(project, **overrides):
    pytorch = {"source_pytorch_model": "model.pt",
               "pytorch_architecture": {"entry_point": SEQUENTIAL, "arguments": {"layers": LAYERS}}}
    return tiny.write_config_dict(project, tiny.config_dict(source_keras_model=None, **{**pytorch, **overrides}))


def test_the_pipeline_evaluates_float_quantized_and_onnx_with_the_same_predictions(project):
    from vsq.cache.store import Cache
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import Progress
    from vsq.sections import all_sections

    pipeline = Pipeline(prepare(config(project)), RunOptions(Cache(project / "cache"), progress=Progress(False),
                                                             sections=all_sections()))
    result = pipeline.result
    document = result.document
    assert document["framework"] == "pytorch"
    assert {"top_1_accuracy_pytorch", "top_1_accuracy_pytorch_quantized", "top_1_accuracy_onnx_quantized"} <= set(document)
    assert not any(key.startswith(("top_1_accuracy_keras", "top_1_accuracy_tflite")) for key in document)
    assert document["top_1_accuracy_pytorch"] == 1.0 and document["top_1_accuracy_onnx_quantized"] == 1.0
    onnx, fake = (pipeline.evaluations[key].predictions for key in ("onnx_quantized", "pytorch_quantized"))
    assert (onnx == fake).mean() >= 0.99
    assert result.verdict == "PASS", result.failures()
    assert (project / "output" / "model_quantized.onnx").is_file()


def test_weights_that_would_unpickle_code_are_refused(project):
    torch.save(colour_model(), project / "model.pt")  # the whole module: unpickling it imports and runs code
    with pytest.raises(ConfigError) as caught:
        from vsq.frameworks.pytorch.models import load_pytorch_model

        load_pytorch_model(prepare(config(project)).config)
    assert caught.value.key == "source_pytorch_model" and "weights_only=True" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_architecture_file_runs_only_when_the_run_grants_it(project):
    from vsq.configuration.grants import Grants

    (project / "net.py").write_text("import vsq.frameworks.pytorch.architecture as a\n"
                                    f"def build():\n    return a.sequential({LAYERS!r})\n")
    architecture = {"entry_point": "net.py:build"}
    with pytest.raises(ConfigError) as caught:
        prepare(config(project, pytorch_architecture=architecture))
    assert caught.value.key == "pytorch_architecture.entry_point" and "--allow-unsafe-model-code" in str(caught.value)
    with pytest.raises(ConfigError) as caught:  # a configuration cannot grant it itself
        prepare(config(project, pytorch_architecture=architecture, allow_unsafe_model_code=True))
    assert caught.value.key == "allow_unsafe_model_code"
    job = prepare(config(project, pytorch_architecture=architecture), Grants.given(unsafe_model_code_for_any=True))
    from vsq.frameworks.pytorch.models import load_pytorch_model

    assert isinstance(load_pytorch_model(job.config), torch.nn.Sequential)


def test_only_model_builders_run_without_the_grant(project, monkeypatch):
    """A configuration picks the callable and writes its arguments: `subprocess:run` would run anything."""
    from vsq.frameworks.pytorch.architecture import resolve
    from vsq.frameworks.pytorch.builders import check_builder, needs_grant

    for entry_point in ("subprocess:run", "os:system", "torchvision.models:_utils", "net:build", "timm.models:load_checkpoint",
                        "vsq.frameworks.pytorch.architecture:resolve"):
        with pytest.raises(ConfigError) as caught:
            prepare(config(project, pytorch_architecture={"entry_point": entry_point, "arguments": {"args": ["id"]}}))
        assert caught.value.key == "pytorch_architecture.entry_point" and "--allow-unsafe-model-code" in str(caught.value)
    for entry_point in ("torchvision.models:mobilenet_v2", "timm:create_model", SEQUENTIAL):
        assert needs_grant(entry_point) is None
    # A builder module's name may not bring another module's callable along, nor its own helpers.
    for name in ("get_model", "get_weight", "list_models"):
        with pytest.raises(ValueError, match="not a model builder"):
            check_builder(resolve(f"torchvision.models:{name}", project), f"torchvision.models:{name}")
    # A package of the working folder (on sys.path with python -m) would stand in for an installed one.
    (project / "timm").mkdir()
    (project / "timm" / "__init__.py").write_text("raise SystemExit('shadow ran')\n")
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delitem(sys.modules, "timm", raising=False)  # as in a new process: looked up on sys.path
    assert "not from the installed package" in needs_grant("timm:create_model")


def test_a_wrong_input_size_or_class_count_is_one_line(project):
    from vsq.frameworks.pytorch.framework import PYTORCH
    from vsq.frameworks.pytorch.models import describe

    too_big = sequential([["Conv2d", 3, 3, 1], ["Flatten"], ["Linear", 3 * 16 * 16, 3]])
    job = prepare(config(project, input_tensor_size=20))
    with pytest.raises(ConfigError) as caught:
        describe(too_big, job.config)
    assert caught.value.key == "input_tensor_size" and "\n" not in str(caught.value)
    info = describe(colour_model(), job.config)
    with pytest.raises(ConfigError) as caught:
        PYTORCH.check_matches(job.config, info, 5)
    assert "has 5 classes but the model has 3 outputs" in str(caught.value)


def test_the_onnx_pool_gives_the_same_scores_for_any_number_of_sessions(project, tmp_path):
    from vsq.configuration.config import Variant
    from vsq.frameworks.pytorch import recipes
    from vsq.frameworks.pytorch.onnx_runtime import OnnxModel

    rng = np.random.default_rng(0)
    batches = [rng.random((8, tiny.SIZE, tiny.SIZE, 3), dtype=np.float32) for _ in range(2)]
    job = prepare(config(project))
    quantized = recipes.quantize(Variant("quantized", "mct_ptq"), colour_model(), lambda: iter(batches), job.config)
    path = recipes.export_onnx(quantized, tmp_path / "q.onnx", lambda: iter(batches))
    images = rng.random((37, tiny.SIZE, tiny.SIZE, 3), dtype=np.float32)
    one = OnnxModel(path, 1).predict(images)
    assert all(np.array_equal(one, OnnxModel(path, n).predict(images)) for n in (2, 3))
