"""The cache audit, end to end: a warm run after one configuration change rebuilds exactly the artifacts that
depend on it (results.json's `cache`, the pipeline's cache log) and takes every other one from the cache.
tests/test_cache.py checks the keys one by one; this checks what a real run does with them."""

import pytest

import tiny

QUANTIZED = {"model_quantized.tflite", "evaluation of tflite_quantized", "evaluation of keras_quantized"}

CHANGES = {
    # name: (the configuration's change, the artifacts it must rebuild)
    "thresholds": ({"thresholds": {"max_top1_drop": 3}, "expected_top1": {"top1": 0.9}}, set()),
    "outputs": ({"output_dir": "output2", "evaluate_result_dir": "results2"}, set()),
    "op resolver": ({"tflite_runtime": {"op_resolver": "builtin_ref"}},
                    {"evaluation of tflite", "evaluation of tflite_quantized"}),
    "screen": ({"screen": {"max_images": 20}}, {"preprocessing screen"}),
    "calibration seed": ({"seed": 1}, QUANTIZED),
    "recipe option": ({"quantization": {"options": {"z_threshold": 16}}}, QUANTIZED),
    "recipe bit width": ({"quantization": {"options": {"weights_n_bits": 4}}}, QUANTIZED),
}


@pytest.fixture(scope="module")
def warm(tmp_path_factory, tiny_model):
    """A tiny project run once, cold, by `python -m vsq run` (standard error not a terminal, as in a CI log): every
    artifact built into the module's cache. Returns the project folder and the finished process."""
    import json
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("audit")
    tiny.write_data(root, per_class=4)
    config = tiny.write_config(root, source_keras_model=str(tiny_model), batch_size=4)
    done = subprocess.run([sys.executable, "-m", "vsq", "run", str(config), "--cache-dir", str(root / "cache")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    cache = json.loads((root / "results" / "results.json").read_text())["cache"]
    assert set(cache.values()) == {"built"}, cache
    return root, done


def test_a_cold_command_run_prints_only_vsqs_own_lines(warm):
    """No TensorFlow, MLIR or MCT output (op counts, progress bars), and no XNNPACK delegate: vsq evaluates and
    inspects .tflite files with builtin kernels only, as results.json records."""
    _, done = warm
    noise = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("configuration: ")]
    assert noise == [], done.stderr
    assert "XNNPACK" not in done.stdout + done.stderr
    assert "configuration: results in " in done.stdout


@pytest.mark.parametrize("change", CHANGES)
def test_a_warm_run_rebuilds_what_the_change_reaches_and_nothing_else(warm, tiny_model, change):
    import vsq

    warm, _ = warm
    setting, expected = CHANGES[change]
    config = tiny.write_config(warm, f"{change.replace(' ', '_')}.json", source_keras_model=str(tiny_model),
                               batch_size=4, **setting)
    log = vsq.run(config, cache_dir=warm / "cache", progress=False).document["cache"]
    assert {name for name, how in log.items() if how == "built"} == expected, log
    assert {how for name, how in log.items() if name not in expected} <= {"hit"}, log


def test_results_json_records_the_host_cpu(warm):
    """INT8 kernels differ by instruction set: the figures say which CPU made them."""
    import json

    from vsq.util.cpu import host_cpu

    document = json.loads((warm[0] / "results" / "results.json").read_text())
    assert document["environment"]["cpu"] == host_cpu() and document["environment"]["cpu"]["model"]
