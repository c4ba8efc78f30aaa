"""PyTorch's export checks, each failing on a real model a user could have, through the real pipeline (MCT,
its ONNX export, ONNX Runtime with mct-quantizers' operators). Run by tests/test_pytorch.py in .venv-torch.

shapes_match_the_model is not here: a model whose input or class count differs from the configuration is
refused before anything is exported (exit 4: test_pytorch_framework's wrong input size or class count)."""

import json

import torch

import tiny
from test_pytorch_framework import SEQUENTIAL, config, project  # noqa: F401 (the tiny project fixture)
from vsq.pipeline.job import prepare
from vsq.frameworks.pytorch.architecture import sequential


def run(project, layers, model):
    from vsq.cache.store import Cache
    from vsq.pipeline.options import RunOptions
    from vsq.pipeline.pipeline import Pipeline
    from vsq.pipeline.progress import Progress

    torch.save(model.state_dict(), project / "model.pt")
    job = prepare(config(project, pytorch_architecture={"entry_point": SEQUENTIAL, "arguments": {"layers": layers}}))
    return Pipeline(job, RunOptions(Cache(project / "cache"), progress=Progress(False))).result


def test_a_model_without_weights_fails_only_the_integer_check(project):
    """Pooling alone gives the mean R, G, B as the three scores: right on every image once labels.json lists the
    classes in channel order, and nothing for MCT to quantize."""
    (project / "evaluate" / "labels.json").write_text(json.dumps({"red": 0, "green": 1, "blue": 2}))
    layers = [["AdaptiveAvgPool2d", 1], ["Flatten"]]
    result = run(project, layers, sequential(layers))
    assert result.document["top_1_accuracy_pytorch"] == 1.0
    assert result.failures() == {"quantized_file_is_integer_quantized":
                                 "configuration: model_quantized.onnx has no weight tensor"}


def test_an_activation_with_an_outlier_channel_fails_the_quantized_pytorch_models_drop(project):
    """A fourth channel of 1000 x red shares the Conv's per-tensor activation scale with the three colour means:
    at 8 bits the means round to one value, every score ties, the quantized models answer one class."""
    layers = [["Conv2d", 3, 4, 1, {"bias": False}], ["AdaptiveAvgPool2d", 1], ["Flatten"], ["Linear", 4, 3]]
    model = sequential(layers)
    with torch.no_grad():
        weight = torch.zeros(4, 3, 1, 1)
        weight[:3, :, 0, 0], weight[3, 0, 0, 0] = torch.eye(3), 1000.0
        model[0].weight.copy_(weight)
        model[3].weight.zero_()
        model[3].bias.zero_()
        for cls, name in enumerate(tiny.CLASSES):
            model[3].weight[cls, tiny.CHANNEL[name]] = 10.0
    result = run(project, layers, model.eval())
    document = result.document
    assert document["top_1_accuracy_pytorch"] == 1.0
    assert document["top_1_accuracy_pytorch_quantized"] == document["top_1_accuracy_onnx_quantized"] == 1 / 3
    message = result.failures()["quantized_pytorch_top1_drop_within_threshold"]
    assert message.startswith("configuration: MCT's quantized PyTorch model Top-1 0.3333 is 66.67 points below "
                              "PyTorch 1.0000"), message
    assert "thresholds.max_top1_drop is 1.0 points" in message
