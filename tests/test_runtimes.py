"""The ONNX Runtime and OpenVINO variants: built by the real converters and quantizers on the tiny model, float
files agree with Keras, INT8 files really are integer, the storage checks can fail, a missing runtime stops the
run before any work (exit 4, one line), and the bundled example runs every kind end to end."""

import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tiny
from conftest import RUNTIME_KINDS
from vsq.configuration.config import Variant
from vsq.runtimes import kinds

REPO = Path(__file__).resolve().parents[1]
FLOAT_KINDS = ("onnxruntime_float", "openvino_float")
INT8_KINDS = ("onnxruntime_int8", "openvino_int8")


# --- kinds, names, keys (no runtime needed) --------------------------------------------------------------


def test_each_kind_names_its_files_runtime_and_device():
    assert Variant("a", "onnxruntime_int8").file_names == ("model_a.onnx",)
    assert Variant("b", "openvino_int8").file_names == ("model_b.xml", "model_b.bin")
    assert Variant("c", "tf_float16").file_names == ("model_c.tflite",)
    assert kinds.model_files(Path("x/model_b.xml")) == [Path("x/model_b.xml"), Path("x/model_b.bin")]
    assert kinds.runtime_of(Path("m.onnx")) is kinds.ONNXRUNTIME and kinds.runtime_of(Path("m.tflite")) is None
    devices = {kind: kinds.device_of(kind, "imx500") for kind in ("mct_ptq", "tf_float16", *RUNTIME_KINDS)}
    assert devices == {"mct_ptq": "IMX500", "tf_float16": "TFLite CPU", "onnxruntime_float": "ONNX Runtime CPU",
                       "onnxruntime_int8": "ONNX Runtime CPU", "openvino_float": "OpenVINO CPU",
                       "openvino_int8": "OpenVINO CPU"}
    assert kinds.device_of("mct_ptq", "tflite") == "TFLite CPU"
    assert kinds.OPENVINO.settings["INFERENCE_PRECISION_HINT"] == "f32"  # never OpenVINO's bf16 default


def test_calibration_method_is_an_option_of_onnxruntime_int8_only(project):
    from vsq.pipeline.job import prepare
    from vsq.errors import ConfigError

    config = prepare(tiny.write_config(project, variants=[
        "onnxruntime_int8", {"kind": "onnxruntime_int8", "name": "entropy", "calibration_method": "entropy"}])).config
    assert [v.calibration_method for v in config.variants] == ["minmax", "entropy"]  # ONNX Runtime's default first
    with pytest.raises(ConfigError, match="variants"):
        prepare(tiny.write_config(project, variants=[{"kind": "onnxruntime_int8", "calibration_method": "mse"}]))
    with pytest.raises(ConfigError, match="would overwrite model_quantized"):
        prepare(tiny.write_config(project, variants=[{"kind": "openvino_float", "name": "quantized"}]))


def test_cache_keys_hold_the_converters_versions_of_their_kinds_only(project, monkeypatch):
    from vsq.pipeline.job import prepare
    from vsq.pipeline.artifacts import Fingerprints, recipe_key

    job = prepare(tiny.write_config(project))
    prints = Fingerprints(model="m", calibration="c", evaluation="e",
                          stack={"tensorflow": "2.15.1", "model_compression_toolkit": "2.6.1"},
                          framework={"tensorflow": "2.15.1"})
    variants = [Variant(kind, kind) for kind in ("tf_float16", "mct_ptq", *RUNTIME_KINDS)]
    before = {v.name: recipe_key(job, prints, v) for v in variants}
    monkeypatch.setattr(kinds.versions, "version_of", lambda component: f"{component}-next")
    after = {v.name: recipe_key(job, prints, v) for v in variants}
    assert [name for name in before if before[name] != after[name]] == list(RUNTIME_KINDS)
    entropy = Variant("onnxruntime_int8", "onnxruntime_int8", calibration_method="entropy")
    assert recipe_key(job, prints, entropy) != after["onnxruntime_int8"]
    other = Fingerprints(model="m", calibration="other", evaluation="e", stack=prints.stack,
                         framework=prints.framework)
    assert recipe_key(job, other, variants[2]) == after["onnxruntime_float"]  # the float kinds read no calibration
    assert recipe_key(job, other, variants[5]) != after["openvino_int8"]


def test_a_missing_module_is_found_without_importing_it(monkeypatch):
    assert kinds.missing_modules("openvino_int8") == []
    monkeypatch.setitem(sys.modules, "nncf", None)  # how Python marks a module that cannot be imported
    assert kinds.missing_modules("openvino_int8") == ["nncf"]
    assert kinds.missing_modules("tf_float16") == []
    assert kinds.install_command("openvino_int8") == "pip install -c requirements.txt openvino nncf"


def test_a_variant_whose_runtime_is_not_installed_stops_the_run_with_one_line(project, tmp_path):
    """A real process in which onnxruntime cannot be imported (a sitecustomize on PYTHONPATH blocks it, as an
    environment without the package would): exit 4 before anything is built, one line naming the kind."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['onnxruntime'] = None\n")
    config = tiny.write_config(project, variants=["openvino_float", "onnxruntime_int8"])
    env = {**os.environ, "PYTHONPATH": str(shim), "VSQ_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "vsq", "run", str(config)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=project)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 4, lines
    assert len(lines) == 1, lines
    assert "variants: variant onnxruntime_int8 (onnxruntime_int8) needs onnxruntime" in lines[0]
    assert "pip install -c requirements.txt tf2onnx onnx onnxruntime sympy" in lines[0]
    assert not (project / "output").exists() and not (tmp_path / "cache").exists()


def test_importing_the_runtimes_through_vsq_writes_nothing_under_home(tmp_path):
    """ONNX Runtime and OpenVINO start their usage telemetry when imported and keep ids under the home folder
    (the same import without the switches writes ~/.cache/Microsoft/... and ~/intel/...); vsq imports them with
    it off, and leaves the environment as it was."""
    from vsq.runtimes.telemetry import SWITCHES

    code = ("from vsq.runtimes.telemetry import import_quietly; import os; "
            "[import_quietly(name) for name in ('onnxruntime', 'openvino', 'nncf')]; "
            f"print([os.environ.get(name) for name in {sorted(SWITCHES)!r}])")
    env = {key: value for key, value in os.environ.items() if key not in SWITCHES}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**env, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[None, None, None]"
    assert list(tmp_path.iterdir()) == []


# --- built by the real tools on the tiny model -------------------------------------------------------------


@pytest.mark.slow
def test_files_land_under_their_names_and_the_tools_write_nothing_under_home(runtime_files):
    folder = runtime_files["job"].config.output_dir
    assert sorted(path.name for path in folder.iterdir()) == [
        "model_onnxruntime_float.onnx", "model_onnxruntime_int8.onnx", "model_openvino_float.bin",
        "model_openvino_float.xml", "model_openvino_int8.bin", "model_openvino_int8.xml"]  # no temporary file left
    assert list(runtime_files["home"].iterdir()) == []


@pytest.mark.slow
def test_float_conversions_agree_with_keras(runtime_files):
    from vsq.frameworks.keras.framework import KERAS
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.pipeline.evaluate import evaluate_models

    job = runtime_files["job"]
    predictors = {kind: KERAS.file_predictor(runtime_files[kind], job.config) for kind in RUNTIME_KINDS}
    predictors["keras"] = KERAS.predictor(load_keras_model(job.config))
    results = evaluate_models(predictors, job.config, job.evaluation_set)
    keras = results["keras"]
    assert keras.top1 < 1.0  # the mislabelled images: agreement is not just "everything right"
    for kind in FLOAT_KINDS:
        agreement = float(np.mean(results[kind].predictions == keras.predictions))
        assert agreement >= 0.99, (kind, agreement)
        np.testing.assert_allclose(results[kind].top_scores, keras.top_scores, atol=1e-4)
    for kind in INT8_KINDS:  # integer, yet on this easy model as right as Keras
        assert results[kind].top1 == keras.top1, kind


@pytest.mark.slow
def test_int8_files_store_integer_weights_between_quantize_ops(runtime_files):
    from vsq.runtimes.storage import describe, weight_problems

    onnx = describe(runtime_files["onnxruntime_int8"])
    assert onnx["kernels"] and all(k["type"] == "int8" and k["dequantized"] for k in onnx["kernels"])
    assert onnx["quantize_nodes"] > 0 and onnx["dequantize_nodes"] >= len(onnx["kernels"])
    openvino = describe(runtime_files["openvino_int8"])
    assert openvino["kernels"] and all(k["type"] == "int8" or k["fake_quantize_levels"] == 256
                                       for k in openvino["kernels"])
    assert openvino["fake_quantize_ops"] > 0
    assert openvino["file_size_bytes"] == sum(p.stat().st_size for p in kinds.model_files(runtime_files["openvino_int8"]))
    for kind in RUNTIME_KINDS:
        assert weight_problems(kind, describe(runtime_files[kind])) == [], kind


@pytest.mark.slow
def test_storage_checks_fail_a_file_that_is_not_its_kind(runtime_files):
    """Each check can fail: a float file held to its int8 kind's promise, and the reverse."""
    from vsq.runtimes.storage import describe, weight_problems

    swapped = {"onnxruntime_float": "onnxruntime_int8", "onnxruntime_int8": "onnxruntime_float",
               "openvino_float": "openvino_int8", "openvino_int8": "openvino_float"}
    problems = {kind: weight_problems(swapped[kind], describe(runtime_files[kind])) for kind in RUNTIME_KINDS}
    assert "weight tensors in float or outside a DequantizeLinear" in problems["onnxruntime_float"][0]
    assert "has no QuantizeLinear node" in problems["onnxruntime_float"][1]
    assert "has no FakeQuantize op" in problems["openvino_float"][-1]
    assert "another type than float32" in problems["onnxruntime_int8"][0]
    assert "FakeQuantize ops" in problems["openvino_int8"][-1]


@pytest.mark.slow
@pytest.mark.parametrize("kind, tool", [("onnxruntime_float", "tf2onnx"),
                                        ("openvino_float", "OpenVINO model conversion")])
def test_an_op_the_converter_does_not_support_fails_with_its_words(runtime_files, tmp_path, kind, tool):
    """A layer computing tf.math.special.bessel_i0e, which neither converter supports: the build fails naming
    the variant, the tool and the op, and leaves no file."""
    import tensorflow as tf

    from vsq.errors import ExternalToolError
    from vsq.frameworks.keras.recipes import build_variant

    class Bessel(tf.keras.layers.Layer):
        def call(self, x):
            return tf.math.special.bessel_i0e(x)

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3)(tf.keras.layers.Flatten()(Bessel()(inputs))))
    variant = Variant(kind, kind)
    with pytest.raises(ExternalToolError) as raised:
        build_variant(variant, model, lambda: iter(()), runtime_files["job"].config, tmp_path / variant.file_name)
    message = str(raised.value)
    assert message.startswith(f"{tool} failed while building variant {kind} ({kind}): "), message
    assert "BesselI0e" in message
    assert list(tmp_path.iterdir()) == []


# --- the bundled example, end to end ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_runtimes_example_runs_every_kind_on_the_same_images(tmp_path):
    from runs import relocated
    from test_pipeline import pytest_run

    config = relocated(REPO / "examples" / "runtimes.json", tmp_path / "runtimes")
    done = pytest_run(tmp_path, "--config", config, f"--vsq-cache-dir={tmp_path / 'cache'}", "--junitxml=junit.xml",
                      "--html=report.html", "--self-contained-html")
    assert done.returncode == 0, done.stdout[-3000:]
    document = json.loads((config.parent / "results" / "results.json").read_text())
    rows = document["variants"]["models"]
    assert {rows[kind]["device"] for kind in RUNTIME_KINDS} == {"ONNX Runtime CPU", "OpenVINO CPU"}
    assert rows["model_quantized.tflite"]["device"] == "IMX500"
    for kind in RUNTIME_KINDS:
        row = rows[kind]
        assert row["runtime"]["name"] in ("onnxruntime", "openvino") and row["runtime"]["version"]
        assert row["latency_ms_per_image"] > 0 and row["paired"]["keras"] and row["decision"]["verdict"] == "PASS"
        assert abs(row["top_1_accuracy"] - document["top_1_accuracy_keras"]) <= 0.02, kind
    assert set(document["variants"]["recommended_by_device"]) == {"IMX500", "TFLite CPU", "ONNX Runtime CPU",
                                                                  "OpenVINO CPU"}
    environment = document["environment"]
    assert environment["openvino"]["INFERENCE_PRECISION_HINT"] == "f32"
    assert environment["onnxruntime"]["intra_op_num_threads"] == 1
    assert "recommended per device: " in done.stdout and "OpenVINO CPU" in done.stdout
    files = {path.name for path in (config.parent / "output").iterdir()}
    assert {"model_onnxruntime_int8.onnx", "model_openvino_int8.xml", "model_openvino_int8.bin"} <= files
    # JUnit: each variant's test carries its device; HTML: the device column and the runtimes' environment rows.
    cases = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
             for case in ET.parse(tmp_path / "junit.xml").iter("testcase")}
    assert cases["test_variant_top1_drop_within_threshold[shapes-runtimes-openvino_int8]"]["device"] == "OpenVINO CPU"
    page = (tmp_path / "report.html").read_text()
    assert "<th>device</th>" in page and "<td>ONNX Runtime CPU</td>" in page
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))["environment"]
    assert "INFERENCE_PRECISION_HINT f32" in blob["OpenVINO (shapes-runtimes)"]
    assert "intra_op_num_threads 1" in blob["ONNX Runtime (shapes-runtimes)"]


def test_nncf_quantizes_with_its_accurate_bias_correction(runtime_files):
    """NNCF records its options in the IR's rt_info: vsq asks for fast_bias_correction=False (docs/runtimes.md
    says why)."""
    import xml.etree.ElementTree as ElementTree

    found = [e.get("value") for e in ElementTree.parse(runtime_files["openvino_int8"]).iter("fast_bias_correction")]
    assert found == ["False"], found


@pytest.mark.slow
def test_onnxruntime_int8_builds_with_each_calibration_method(runtime_files, tmp_path):
    """docs/variants.md: onnxruntime_int8 with calibration_method entropy, percentile or distribution (minmax is
    built above): each an int8 file that keeps Keras' Top-1 here, with activation scales of its own method."""
    import onnx
    from onnx import numpy_helper

    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.framework import KERAS
    from vsq.frameworks.keras.models import load_keras_model
    from vsq.frameworks.keras.recipes import build_variant
    from vsq.pipeline.evaluate import evaluate_models
    from vsq.runtimes.storage import describe, weight_problems

    def activation_scales(path):  # the single-valued scales of the QuantizeLinear nodes, by their names
        graph = onnx.load(str(path)).graph
        scales = {node.input[1] for node in graph.node if node.op_type == "QuantizeLinear"}
        return {init.name: float(numpy_helper.to_array(init)) for init in graph.initializer if init.name in scales}

    job = runtime_files["job"]
    model, batches = load_keras_model(job.config), decode_calibration(job).iterate
    files = {"minmax": runtime_files["onnxruntime_int8"]}
    for method in ("entropy", "percentile", "distribution"):
        variant = Variant(method, "onnxruntime_int8", calibration_method=method)
        files[method] = build_variant(variant, model, batches, job.config, tmp_path / f"{method}.onnx")
        assert weight_problems("onnxruntime_int8", describe(files[method])) == [], method
    predictors = {method: KERAS.file_predictor(path, job.config) for method, path in files.items()}
    results = evaluate_models({**predictors, "keras": KERAS.predictor(model)}, job.config, job.evaluation_set)
    assert {method: results[method].top1 for method in files} == dict.fromkeys(files, results["keras"].top1)
    scales = {method: activation_scales(path) for method, path in files.items()}
    assert all(scales.values()) and all(scales[method] != scales["minmax"] for method in files if method != "minmax")
