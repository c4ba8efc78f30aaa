"""suites/test_imx500.py end to end: the real IMX500 converter in a real pytest run of the suites.

A tiny model converts and fits (and the second run converts nothing); a model whose activations need more than
the sensor's 8 MB does not fit and fails one check with the converter's figures, never a Java stack trace.
"""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tiny
from runs import run_suites

pytestmark = pytest.mark.slow

IMX500_CHECKS = {"test_imx500_converts", "test_imx500_fits_in_memory", "test_imx500_input_has_the_configured_size"}
JAVA_TRACES = ("at com.", "java.lang.", "Exception in thread", "Traceback")


def _cases(junit_file) -> dict:
    """testcase name (without parameters) -> the assertion's message, or None when it passed."""
    out = {}
    for case in ET.parse(junit_file).iter("testcase"):
        failure = case.find("failure")
        message = None if failure is None else failure.get("message").split("\n")[0]
        out[case.get("name").split("[")[0]] = message and message.removeprefix("AssertionError: ")
    return out


def test_a_model_that_fits_passes_the_second_run_converts_nothing_and_a_lower_limit_fails_it(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model), imx500={})

    first = run_suites(harness, config, extra=["--junitxml=first.xml"])
    assert first.ret == pytest.ExitCode.OK, first.stdout.str()[-3000:]
    cases = _cases(harness.path / "first.xml")
    assert IMX500_CHECKS <= set(cases) and not any(cases.values())
    section = json.loads((harness.path / "results" / "results.json").read_text())["imx500"]
    assert section["fits"] is True and section["cache"] == "built"
    assert section["input_shape"] == [tiny.SIZE, tiny.SIZE, 3]
    assert 0 < section["utilization_percent"] <= 100 and section["memory_available_bytes"] == 8388480
    output = harness.path / "output"
    assert (output / "model_quantized.keras").is_file() and (output / "imx500_converter.log").is_file()
    assert {path.name for path in (output / "imx500").iterdir()} == set(section["files"])

    second = run_suites(harness, config, extra=["--junitxml=second.xml"])
    assert second.ret == pytest.ExitCode.OK, second.stdout.str()[-3000:]
    again = json.loads((harness.path / "results" / "results.json").read_text())
    assert again["imx500"]["cache"] == "hit" and again["cache"]["IMX500 conversion"] == "hit"
    assert {key: again["imx500"][key] for key in ("memory_usage_bytes", "fits", "files")} == \
        {key: section[key] for key in ("memory_usage_bytes", "fits", "files")}

    # The same model under a max_memory_utilization below what it uses: it fits the sensor, not the configuration
    # (the conversion is the cached one: the limit is a verdict on the converter's figures, not an input to it).
    limit = section["utilization_percent"] / 2
    strict = tiny.write_config(harness.path, "strict.json", source_keras_model=str(tiny_model),
                               imx500={"max_memory_utilization": limit}, evaluate_result_dir="strict-results")
    third = run_suites(harness, strict, extra=["--junitxml=third.xml"])
    assert third.ret == pytest.ExitCode.TESTS_FAILED, third.stdout.str()[-3000:]
    failed = {name: message for name, message in _cases(harness.path / "third.xml").items() if message}
    assert list(failed) == ["test_imx500_fits_in_memory"], failed
    used = f"{section['memory_usage_bytes'] / 2**20:.2f} MB of 8.00 MB"
    assert failed["test_imx500_fits_in_memory"].startswith(
        f"strict: model_quantized.keras uses {section['utilization_percent']:g} % of the IMX500's memory ({used}); "
        f"imx500.max_memory_utilization is {limit:g} %"), failed
    assert json.loads((harness.path / "strict-results" / "results.json").read_text())["imx500"]["cache"] == "hit"


BIG_SIZE = 256


def _too_large_model(path):
    """Conv2D(64, 1) at 256x256 -> pooling -> Dense: its 256x256x64 activation puts the converter's memory report at
    8.20 MB (runtime memory 8.19 MB) of the sensor's 8 MB, with a few hundred weights and three layers (millions of
    weights, the other way over the limit, take minutes to quantize and convert)."""
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = tf.keras.Input((BIG_SIZE, BIG_SIZE, 3))
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(64, 1)(inputs))
    model = tf.keras.Model(inputs, layers.Dense(len(tiny.CLASSES), activation="softmax")(x))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.02, w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(path)
    return path


def test_a_model_that_does_not_fit_fails_with_the_converters_figures(harness):
    tiny.write_data(harness.path)
    model = _too_large_model(harness.path / "big.h5")
    # Random weights: the accuracy checks are opened, nothing explained and nothing screened (a random model may
    # well score better under another reading of labels.json), so the fit is the one failure.
    config = tiny.write_config(harness.path, source_keras_model=str(model), input_tensor_size=BIG_SIZE, imx500={},
                               thresholds={"min_top1": 0.0, "max_top1_drop": 100.0, "min_float_top1": 0.0},
                               explanation={"when": "never"}, screen={"enabled": False})

    result = run_suites(harness, config, extra=["--junitxml=junit.xml"])

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = _cases(harness.path / "junit.xml")
    assert [name for name, message in cases.items() if message] == ["test_imx500_fits_in_memory",
                                                                     "test_imx500_input_has_the_configured_size"]
    assert cases["test_imx500_converts"] is None  # it converted; it does not fit
    message = cases["test_imx500_fits_in_memory"]
    section = json.loads((harness.path / "results" / "results.json").read_text())["imx500"]
    assert section["fits"] is False and section["exit_code"] == 1 and section["utilization_percent"] > 100
    assert section["memory_usage_bytes"] > section["memory_available_bytes"] == 8388480
    needs = f"{section['memory_usage_bytes'] / 2**20:.2f}"  # the report's bytes, in the converter's binary MB
    assert message.startswith(f"configuration: model_quantized.keras does not fit on the IMX500: needs {needs} MB "
                              f"of 8.00 MB ({section['utilization_percent']:g} %)"), message
    assert "mct_mixed_precision" in message
    assert f"converter log: {harness.path / 'output' / 'imx500_converter.log'}" in message
    assert "\n" not in message and len(message) < 400
    log = (harness.path / "output" / "imx500_converter.log").read_text()
    assert "Not enough memory" in log
    report = result.stdout.str()
    assert not any(trace in report for trace in JAVA_TRACES), [t for t in JAVA_TRACES if t in report]
    assert f"Not enough memory, available: 8.00MB , required: {needs}MB" in section["error"]
    assert "\n" not in section["error"] and not any(trace in section["error"] for trace in JAVA_TRACES)
    assert section["files"] == ["model_quantized_MemoryReport.json"] and section["input_shape"] is None


def test_a_missing_converter_or_java_stops_the_run_before_any_work(harness, tiny_model, monkeypatch):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model), imx500={})
    converter = harness.path / "tools" / "imxconv-tf"
    result = run_suites(harness, config, extra=["--imx500-converter", str(converter)])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    expected = (f"ERROR: {config}: imx500: --imx500-converter {converter}: cannot be found (No such file or "
                "directory); give the path of imxconv-tf")
    assert expected in result.stderr.lines, result.stderr.str()
    assert not (harness.path / "output").exists()

    converter.parent.mkdir()
    converter.write_text("#!/bin/sh\n")
    converter.chmod(0o755)
    monkeypatch.setenv("PATH", str(harness.path / "tools"))  # no java there
    result = run_suites(harness, config, extra=["--imx500-converter", str(converter)])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (f"ERROR: {config}: imx500: Java 17+ for the IMX500 converter missing (no java on PATH); install with: "
            "bash scripts/setup_imx500.sh") in result.stderr.lines, result.stderr.str()
