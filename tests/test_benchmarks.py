"""The benchmarks (suites/test_benchmarks.py, --benchmark-only) time the file each model names."""

import json

import pytest

import tiny
from runs import run_suites

pytestmark = pytest.mark.slow


def test_each_latency_benchmark_times_its_own_file_and_holds_its_budget(harness, tiny_model, shared_cache,
                                                                        monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark turns itself off under a worker
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model),
                               thresholds={"max_latency_ms": {"keras_quantized": 1e-6}})
    result = run_suites(harness, config, extra=["--benchmark-only", "-k", "latency and batch1",
                                                "--benchmark-json=bench.json"], cache=shared_cache)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    files = {bench["extra_info"]["model"]: bench["extra_info"]["file"]
             for bench in json.loads((harness.path / "bench.json").read_text())["benchmarks"]}
    output = harness.path / "output"
    assert files == {"keras": str(tiny_model), "tflite": str(output / "model.tflite"),
                     "tflite_quantized": str(output / "model_quantized.tflite"),
                     "keras_quantized": str(output / "model_quantized.keras")}
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] == 3, outcomes
    result.stdout.fnmatch_lines(["*configuration: model_quantized.keras: * ms per image (batch 1) is over "
                                 "thresholds.max_latency_ms 1e-06 ms*"])
