"""The pytest plugin end to end, in a fresh pytest process on real files (pytester)."""

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import hostile
import tiny
from runs import run_suites

REPO = Path(__file__).resolve().parents[1]


def test_bad_configuration_exits_4_quickly_without_traceback(harness):
    tiny.write_data(harness.path)
    hostile.write_h5(harness.path / "model.h5", hostile.model_config())  # a model file of the right format
    config = tiny.write_config(harness.path, batch_size=400)
    result = run_suites(harness, config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    message = f"{config}: batch_size: 400 is more than the 36 images in dataset_image_dir"
    assert message in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (harness.path / "output").exists() and not (harness.path / "results").exists()
    # The spec's 1.2 s response time is measured, not asserted (a shared machine's wall clock is noise):
    # docs/performance.md's speed table gives the figure and its command.


def test_missing_config_option_says_how_to_call(harness):
    result = run_suites(harness)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "pytest suites/ --config configuration.json" in result.stderr.str()


@pytest.mark.slow
def test_model_that_does_not_match_stops_before_quantization(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model), input_tensor_size=20)
    result = run_suites(harness, config)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "input_tensor_size: 20 does not match the model's input 16x16" in result.stdout.str()
    assert not (harness.path / "output" / "model_quantized.tflite").exists()


@pytest.mark.slow
def test_gate_passes_one_configuration_and_fails_another(harness, tiny_model, shared_cache):
    good, strict = harness.path / "good", harness.path / "strict"
    tiny.write_data(good)
    tiny.write_data(strict, mislabelled=3)  # 33 of 36 right: Top-1 0.9167
    configs = [
        tiny.write_config(good, name="good.json", source_keras_model=str(tiny_model)),
        tiny.write_config(strict, name="strict.json", source_keras_model=str(tiny_model),
                          thresholds={"min_top1": 0.95}),
    ]
    result = run_suites(harness, *configs, extra=["--junitxml", "junit.xml"], cache=shared_cache)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] > 1 and "errors" not in outcomes, outcomes
    result.stdout.re_match_lines([r"good\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+PASS",
                                  r"strict\s+0\.9167\s+0\.9167\s+0\.9167\s+0\.9167\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+FAIL"])
    for root in (good, strict):
        assert (root / "output" / "model.tflite").is_file()
        assert (root / "output" / "model_quantized.tflite").is_file()
        document = json.loads((root / "results" / "results.json").read_text())
        assert document["num_images"] == 36
        assert document["environment"]["tflite_runtime"]["op_resolver"] == "builtin_without_default_delegates"
    assert json.loads((strict / "results" / "results.json").read_text())["top_1_accuracy_keras"] == pytest.approx(33 / 36)

    cases = {case.get("name"): case for case in ET.parse(harness.path / "junit.xml").iter("testcase")}
    failed = cases["test_quantized_top1_above_minimum[strict]"]
    assert failed.find("failure") is not None
    assert "below thresholds.min_top1 0.9500" in failed.find("failure").get("message")
    properties = {p.get("name"): p.get("value") for p in failed.iter("property")}
    assert float(properties["top_1_accuracy_tflite_quantized"]) == pytest.approx(33 / 36)
    assert properties["min_top1"] == "0.95"
    assert cases["test_quantized_top1_above_minimum[good]"].find("failure") is None


@pytest.mark.slow
def test_second_run_reuses_the_cache_and_no_cache_rebuilds(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    results = harness.path / "results" / "results.json"

    cold = run_suites(harness, config, extra=["-s"])  # uncaptured: the tools' own output reaches standard error
    assert cold.ret == pytest.ExitCode.OK
    # Off a terminal (a CI log), progress is plain lines: no carriage-return redraws, no cursor escapes.
    # (pytester splits lines at carriage returns too, so a redrawn bar shows as several lines.)
    log = "\n".join(cold.outlines + cold.errlines)
    assert "\x1b[" not in log and sum("calibration:" in line for line in cold.errlines) == 1
    # ... and MCT's own tqdm bars are off (TQDM_DISABLE): vsq's lines say how far the run is.
    assert not [line for line in log.splitlines() if "Statistics Collection" in line or "quantization parameters" in line]
    cold.stderr.fnmatch_lines(["configuration: calibration: 2/2 it (100 %)*",
                               "configuration: evaluating keras, tflite, tflite_quantized, keras_quantized: 36/36 img (100 %)*"])
    first = json.loads(results.read_text())
    assert set(first["cache"].values()) == {"built"}
    quantized = harness.path / "output" / "model_quantized.tflite"
    built_first = hashlib.sha256(quantized.read_bytes()).hexdigest()

    warm = run_suites(harness, config)
    assert warm.ret == pytest.ExitCode.OK
    warm.stdout.fnmatch_lines(["*reused from the cache*model_quantized.tflite*"])
    second = json.loads(results.read_text())
    assert set(second["cache"].values()) == {"hit"}

    forced = run_suites(harness, config, extra=["--no-cache"])
    assert forced.ret == pytest.ExitCode.OK
    third = json.loads(results.read_text())
    assert set(third["cache"].values()) == {"built"}
    # Seeded sampling and sorted files: building again in another process gives the same INT8 file, byte for
    # byte (its scales move with the calibration images: seed 1 gives other bytes). The tiny model's Top-1 is
    # 1.0 whatever the calibration, so the figures alone could not show it.
    assert hashlib.sha256(quantized.read_bytes()).hexdigest() == built_first
    for key in ("top_1_accuracy_keras", "top_1_accuracy_tflite", "top_1_accuracy_tflite_quantized"):
        assert first[key] == second[key] == third[key]


@pytest.mark.slow
def test_bundled_example_passes(harness, shared_cache):
    """The README's example: the root configuration.json, with outputs moved to a temporary folder."""
    data = json.loads((REPO / "configuration.json").read_text())
    for key in ("source_keras_model", "dataset_image_dir", "evaluate_image_dir", "evaluate_label_file"):
        data[key] = str((REPO / data[key]).resolve())
    config = harness.path / "configuration.json"
    config.write_text(json.dumps(data))
    result = run_suites(harness, config, cache=shared_cache)  # the example's builds are shared with test_search's
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    claimed = re.search(r"The run ends with `(\d+) passed, (\d+) deselected`", (REPO / "README.md").read_text())
    result.assert_outcomes(passed=int(claimed[1]), deselected=int(claimed[2]))  # README's quick start
    document = json.loads((harness.path / "evaluate" / "results" / "results.json").read_text())
    assert document["num_images"] == 200
    assert document["top_1_accuracy_keras"] >= 0.9
    assert document["top_1_accuracy_tflite_quantized"] >= document["top_1_accuracy_keras"] - 0.01


@pytest.mark.slow
def test_a_tiny_model_is_not_failed_for_the_int8_exports_own_overhead(harness):
    """21 weights: MCT's INT8 file (quantize/dequantize, scales) is larger than the float one, by design."""
    import tensorflow as tf

    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    x = tf.keras.layers.GlobalAveragePooling2D()(tf.keras.layers.Conv2D(3, 1, use_bias=False)(inputs))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(x))
    scores = np.zeros((3, 3), np.float32)
    for cls, name in enumerate(tiny.CLASSES):
        scores[tiny.CHANNEL[name], cls] = 10.0
    model.layers[1].set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    model.layers[3].set_weights([scores, np.zeros(3, np.float32)])
    model.save(harness.path / "small.h5")
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model="small.h5")
    result = run_suites(harness, config, extra=["--junitxml=junit.xml"])
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    case = next(c for c in ET.parse(harness.path / "junit.xml").iter("testcase")
                if c.get("name") == "test_quantized_file_is_smaller[configuration]")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert int(properties["quantized_size_bytes"]) > int(properties["float_size_bytes"])
    assert properties["applies"] == "False" and properties["applies_from_bytes"] == str(64 * 1024)
