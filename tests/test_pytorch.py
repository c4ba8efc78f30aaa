"""PyTorch models: the bundled PyTorch example end to end in the PyTorch environment (.venv-torch) with Sony's
imxconv-pt, the framework's own tests there (tests/pytorch/), and what the main venv refuses."""

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import tiny
from runs import run_suites
from vsq.configuration.config import load_config
from vsq.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TORCH_PYTHON = REPO / ".venv-torch" / "bin" / "python"
DATA_KEYS = ("source_pytorch_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file")


def torch_python() -> Path:
    assert TORCH_PYTHON.is_file(), "the PyTorch environment is needed (bash scripts/setup_tests.sh makes it)"
    return TORCH_PYTHON


def pytorch_config(folder: Path, **overrides) -> Path:
    """examples/pytorch.json with its data where it is and its outputs in `folder`."""
    data = json.loads((REPO / "examples" / "pytorch.json").read_text())
    for key in DATA_KEYS:
        data[key] = str((REPO / "examples" / data[key]).resolve())
    data.update(output_dir="output", evaluate_result_dir="results", **overrides)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytorch.json").write_text(json.dumps(data))
    return folder / "pytorch.json"


@pytest.mark.slow
def test_the_pytorch_framework_passes_its_own_tests_in_its_environment():
    done = subprocess.run([torch_python(), "-m", "pytest", "tests/pytorch", "-q", "-p", "no:cacheprovider"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_the_pytorch_example_with_the_imx500_and_a_warm_run_from_the_cache(tmp_path):
    for name in ("pytest.ini",):
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("suites",):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = pytorch_config(tmp_path / "project")

    def run():
        return subprocess.run([torch_python(), "-m", "pytest", "suites/", "--config", str(config), "-p",
                               "no:cacheprovider", f"--vsq-cache-dir={tmp_path / 'cache'}", "--junitxml=junit.xml"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=1200)

    cold = run()
    assert cold.returncode == 0, cold.stdout[-4000:]
    document = json.loads((config.parent / "results" / "results.json").read_text())
    assert document["framework"] == "pytorch" and document["gate"]["verdict"] == "PASS"
    figures = {key: document[key] for key in ("top_1_accuracy_pytorch", "top_1_accuracy_pytorch_quantized",
                                              "top_1_accuracy_onnx_quantized")}
    assert min(figures.values()) >= 0.85, figures
    assert not any(key.startswith(("top_1_accuracy_keras", "top_1_accuracy_tflite")) for key in document)
    assert document["imx500"]["fits"] and document["imx500"]["utilization_percent"] < 100
    assert document["models"]["onnx_quantized"]["decision"]["verdict"] == "PASS"
    # ONNX Runtime with mct-quantizers' operators predicts as MCT's fake-quant model does, image by image.
    assert document["models"]["onnx_quantized"]["agreement_with_pytorch_quantized"] >= 0.99
    assert (config.parent / "output" / "model_quantized.onnx").is_file()
    # MCT's fake-quantized PyTorch model has its own check, run and passed (not only planned).
    assert document["checks"]["quantized_pytorch_top1_drop_within_threshold"]["verdict"] == "PASS", document["checks"]
    cases = {case.get("name"): case for case in ET.parse(tmp_path / "junit.xml").iter("testcase")}
    case = cases["test_quantized_pytorch_top1_drop_within_threshold[shapes-pytorch]"]
    assert case.find("failure") is None and case.find("skipped") is None and case.find("error") is None
    warm = run()
    assert warm.returncode == 0, warm.stdout[-4000:]
    again = json.loads((config.parent / "results" / "results.json").read_text())
    assert set(again["cache"].values()) == {"hit"}, again["cache"]
    assert {key: again[key] for key in figures} == figures


def test_a_pytorch_configuration_without_torch_names_the_setup_command(harness):
    """The main venv has no torch: exit 4 before any heavy work, one line."""
    config = pytorch_config(harness.path / "project")
    result = run_suites(harness, config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    [line] = [line for line in result.stderr.lines if "source_pytorch_model" in line]
    assert "not installed in this environment" in line and "bash scripts/setup_pytorch.sh" in line


@pytest.mark.parametrize("case, key, words", [
    ("tf-variant", "variants", "tf_float16 converts a Keras model"),
    ("onnxruntime-variant", "variants", "onnxruntime_int8 converts a Keras model"),
    ("both-sources", "source_pytorch_model", "and source_keras_model are both given"),
    ("no-architecture", "pytorch_architecture", "is missing: source_pytorch_model holds weights only"),
])
def test_a_pytorch_configuration_is_checked_like_any_other(project, case, key, words):
    data = tiny.config_dict(source_keras_model=None, source_pytorch_model="model.pt",
                            pytorch_architecture={"entry_point": "torchvision.models:resnet18"})
    if case.endswith("-variant"):
        data["variants"] = ["tf_float16" if case == "tf-variant" else "onnxruntime_int8"]
    elif case == "both-sources":
        data["source_keras_model"] = "model.h5"
    else:
        del data["pytorch_architecture"]
    (project / "model.pt").write_bytes(b"weights")
    with pytest.raises(ConfigError) as caught:
        load_config(tiny.write_config_dict(project, data))
    assert caught.value.key == key and words in str(caught.value), str(caught.value)
