"""Hostile PyTorch configurations and weights (issue 31): each test builds its attack (a harmless payload that
writes a marker file) and checks that vsq refuses it, in one line, before the payload runs or the memory is
allocated. Run by tests/test_pytorch.py in .venv-torch with the rest of tests/pytorch/."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from test_pytorch_framework import LAYERS, SEQUENTIAL, colour_model, config, project  # noqa: F401 (fixture)
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError
from vsq.frameworks.pytorch.models import load_pytorch_model

REPO = Path(__file__).resolve().parents[2]


class Marker:
    """Unpickling it writes `path` (what a pickle planted for torch.load(weights_only=False) would do)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write('ran')",)


def refused(project, key: str, **overrides) -> str:
    """The one-line message of the ConfigError that loading the configuration gives, for `key`."""
    with pytest.raises(ConfigError) as caught:
        load_pytorch_model(prepare(config(project, **overrides)).config)
    assert caught.value.key == key, str(caught.value)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_vsq_own_resolver_is_not_a_builder(project):
    """Item 1: `resolve` of vsq's architecture module would import any module named in its arguments."""
    (project / "payload").mkdir()
    (project / "payload" / "evil.py").write_text(f"open({str(project / 'ran')!r}, 'w').write('x')\nx = 1\n")
    for name in ("resolve", "is_file", "sequential.__globals__"):
        architecture = {"entry_point": f"vsq.frameworks.pytorch.architecture:{name}",
                        "arguments": {"entry_point": "payload.evil:x", "base": str(project)}}
        with pytest.raises(ConfigError) as caught:
            prepare(config(project, pytorch_architecture=architecture))
        assert caught.value.key == "pytorch_architecture.entry_point" and "--allow-unsafe-model-code" in str(caught.value)
    assert not (project / "ran").exists()


def test_a_builder_module_public_function_that_is_no_builder_is_refused_before_it_runs(project, monkeypatch):
    """torchvision.models:get_model builds with weights from its arguments; it is not a registered builder."""
    marker = project / "ran"
    monkeypatch.setenv("TORCH_HOME", str(project / "torch"))
    message = refused(project, "pytorch_architecture.entry_point", pytorch_architecture={
        "entry_point": "torchvision.models:get_model", "arguments": {"name": "resnet18", "weights": "DEFAULT"}})
    assert "is not a model builder" in message and not marker.exists()


def test_torchvision_weights_from_a_planted_torch_cache_are_refused(project, monkeypatch):
    """Item 3: "weights" reads $TORCH_HOME/hub/checkpoints/<file> with weights_only=False, and never checks the
    hash of a file already there: a pickle planted in a runner's persistent cache would run."""
    import torchvision

    marker = project / "ran"
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    planted = project / "torch" / "hub" / "checkpoints" / url.rsplit("/", 1)[1]
    planted.parent.mkdir(parents=True)
    torch.save(Marker(marker), planted)
    monkeypatch.setenv("TORCH_HOME", str(project / "torch"))
    for arguments in ({"weights": "IMAGENET1K_V1"}, {"pretrained": True}, {"weights": "DEFAULT", "num_classes": 3}):
        message = refused(project, "pytorch_architecture.arguments", pytorch_architecture={
            "entry_point": "torchvision.models:resnet18", "arguments": arguments})
        assert "without a grant" in message and "num_classes" in message, message
    assert not marker.exists()


def test_timm_arguments_that_read_or_download_weights_are_refused(project, monkeypatch):
    marker = project / "ran"
    torch.save(Marker(marker), project / "evil.pth")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cases = [{"model_name": "resnet18", "checkpoint_path": str(project / "evil.pth"), "num_classes": 3},
             {"model_name": "resnet18", "pretrained": True, "pretrained_cfg_overlay": {"file": str(project / "evil.pth")}},
             {"model_name": "resnet18", "cache_dir": str(project)},
             {"model_name": "hf-hub:someone/resnet18"},
             {"model_name": "local-dir:" + str(project)},
             {"model_name": "resnet18", "device": "cpu"}]
    for arguments in cases:
        message = refused(project, "pytorch_architecture.arguments",
                          pytorch_architecture={"entry_point": "timm:create_model", "arguments": arguments})
        assert "timm" in message or "without a grant" in message, message
    assert not marker.exists()


def test_timm_and_torchvision_builders_build_what_their_weights_fit(project):
    """What the allow-lists leave: a timm model whose constructor computes buffers it does not save (LeViT's
    attention indexes) and a torchvision RegNet (its builder reads tensor values, so it cannot run on the meta
    device) load their weights and give the original's scores."""
    import timm
    import torchvision

    images = torch.rand(2, 3, 64, 64)
    for entry_point, arguments, original in (
            ("timm:create_model", {"model_name": "levit_128s", "num_classes": 3, "img_size": 64},
             timm.create_model("levit_128s", num_classes=3, img_size=64)),
            ("torchvision.models:regnet_x_400mf", {"num_classes": 3}, torchvision.models.regnet_x_400mf(num_classes=3))):
        torch.save(original.state_dict(), project / "model.pt")
        job = prepare(config(project, input_tensor_size=64,
                             pytorch_architecture={"entry_point": entry_point, "arguments": arguments}))
        model = load_pytorch_model(job.config)
        with torch.no_grad():
            assert torch.allclose(model(images), original.eval()(images), atol=1e-5), entry_point
        assert not any(tensor.is_meta for tensor in (*model.parameters(), *model.buffers()))


def test_a_torchvision_builder_never_loads_its_default_backbone():
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    from vsq.frameworks.pytorch.builders import builder_arguments

    entry_point = "torchvision.models.detection:fasterrcnn_mobilenet_v3_large_320_fpn"
    arguments = builder_arguments(fasterrcnn_mobilenet_v3_large_320_fpn, entry_point, {"num_classes": 3})
    assert arguments == {"num_classes": 3, "weights_backbone": None}


BOMBS = """
import json, resource, sys
from vsq.pipeline.job import prepare
from vsq.errors import ConfigError
from vsq.frameworks.pytorch.models import load_pytorch_model
said = {}
for path in sys.argv[1:]:
    try:
        load_pytorch_model(prepare(path).config)
        said[path] = "loaded"
    except ConfigError as error:
        said[path] = str(error)
said["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps(said))
"""


def test_allocation_bombs_in_the_architecture_are_refused_before_they_are_allocated(project):
    """Item 5: a few bytes of arguments ask for gigabytes (each bomb here 1.5-1.6 GB; the issue's 14-15 GB);
    the model is built on the meta device and compared with the weights first. One child process, whose peak
    memory is the measure."""
    bombs = {"linear": {"entry_point": SEQUENTIAL, "arguments": {"layers": [*LAYERS[:3], ["Linear", 20000, 20000]]}},
             "classes": {"entry_point": "torchvision.models:mobilenet_v2", "arguments": {"num_classes": 300000}},
             "placed": {"entry_point": SEQUENTIAL, "arguments": {"layers": [["Linear", 20000, 20000, {"device": "cpu"}]]}}}
    paths = [config(project, pytorch_architecture=bomb).rename(project / f"{name}.json") for name, bomb in bombs.items()]
    done = subprocess.run([sys.executable, "-c", BOMBS, *map(str, paths)], capture_output=True, text=True,
                          timeout=600, cwd=project)
    said = json.loads(done.stdout.splitlines()[-1])
    assert "'3.weight' of shape (3, 3), the architecture (20000, 20000)" in said[str(paths[0])]
    assert "does not fit the architecture torchvision.models:mobilenet_v2" in said[str(paths[1])]
    assert "sets device" in said[str(paths[2])]
    assert said["peak_mib"] < 1000, said  # torch and torchvision imported: ~500 MiB


def test_input_size_and_other_sizes_have_maxima(project):
    for key, value in (("input_tensor_size", 40000), ("batch_size", 100000), ("iteration_count", 10 ** 9),
                       ("tflite_runtime", {"instances": 10000})):
        with pytest.raises(ConfigError) as caught:
            prepare(config(project, **{key: value}))
        assert caught.value.key.startswith(key) and "too large" in str(caught.value), str(caught.value)


def test_a_zip_bomb_as_weights_is_refused_before_it_is_inflated(project):
    """Item 6: torch.save stores its entries; the same archive deflated is a fraction of what torch.load
    inflates (here 16 MiB of zeros in about 16 KB)."""
    state = {**colour_model().state_dict(), "zeros": torch.zeros(4 << 20)}
    torch.save(state, project / "stored.pt")
    with zipfile.ZipFile(project / "stored.pt") as stored, \
            zipfile.ZipFile(project / "model.pt", "w", zipfile.ZIP_DEFLATED) as deflated:
        for entry in stored.infolist():
            deflated.writestr(entry.filename, stored.read(entry), zipfile.ZIP_DEFLATED)
    assert (project / "model.pt").stat().st_size < 100_000
    assert "holds a compressed entry" in refused(project, "source_pytorch_model")


def test_a_deflated_copy_of_good_weights_is_refused_and_the_stored_one_loads(project):
    torch.save(colour_model().state_dict(), project / "stored.pt")
    with zipfile.ZipFile(project / "stored.pt") as stored, \
            zipfile.ZipFile(project / "model.pt", "w", zipfile.ZIP_DEFLATED) as deflated:
        for entry in stored.infolist():
            deflated.writestr(entry.filename, stored.read(entry))
    assert "holds a compressed entry" in refused(project, "source_pytorch_model")
    assert isinstance(load_pytorch_model(prepare(config(project, source_pytorch_model="stored.pt")).config),
                      torch.nn.Sequential)


def test_weights_that_do_not_fit_name_the_first_key_and_both_shapes(project):
    wider = [["Conv2d", 3, 4, 1, {"bias": False}], *LAYERS[1:3], ["Linear", 4, 3]]
    message = refused(project, "source_pytorch_model",
                      pytorch_architecture={"entry_point": SEQUENTIAL, "arguments": {"layers": wider}})
    assert "has '0.weight' of shape (3, 3, 1, 1), the architecture (4, 3, 1, 1)" in message
