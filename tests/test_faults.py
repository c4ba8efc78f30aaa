"""Faults: a run killed at any point, or two runs at once, never leave a half-written file."""

import json
import signal
import subprocess
import sys
import time

import pytest

import tiny
from vsq.cache import Cache

pytestmark = pytest.mark.slow


def start(harness, config, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites/", "--config", str(config), "-p", "no:cacheprovider",
         f"--vsq-cache-dir={harness.path / 'cache'}", *extra],
        cwd=harness.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # A shell's background jobs start with SIGINT ignored; give the run Ctrl-C as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def assert_nothing_half_written(root, cache_root):
    from vsq.tflite import open_for_inspection

    leftovers = [p for p in root.rglob(".*") if ".tmp" in p.name]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    for model in (root / "output").glob("*.tflite"):
        open_for_inspection(model)  # raises on a truncated file
    results = root / "results" / "results.json"
    if results.exists():
        assert "top_1_accuracy_tflite_quantized" in json.loads(results.read_text())
    cache = Cache(cache_root)
    for entry in cache_root.glob("*/*"):
        assert not entry.name.startswith("."), f"a half-built cache entry was left: {entry}"
        assert cache.get(entry.parent.name, entry.name) is not None, f"damaged cache entry {entry}"


@pytest.mark.parametrize("delay, signum, may_finish", [(3.0, signal.SIGINT, False), (6.0, signal.SIGTERM, False),
                                                      (9.0, signal.SIGINT, True)],
                         ids=["importing-sigint", "quantizing-sigterm", "evaluating-sigint"])
def test_interrupted_run_leaves_nothing_half_written(harness, tiny_model, delay, signum, may_finish):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    run = start(harness, config, "--no-cache")
    time.sleep(delay)
    run.send_signal(signum)
    output, _ = run.communicate(timeout=120)
    assert run.returncode in ((0, 2) if may_finish else (2,)), output[-2000:]  # 2: interrupted
    if run.returncode == 2:
        assert "KeyboardInterrupt" in output
    assert_nothing_half_written(harness.path, harness.path / "cache")


def test_two_runs_at_once_on_one_configuration(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    runs = [start(harness, config, "--no-cache") for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [out[-1500:] for out in outputs]
    assert_nothing_half_written(harness.path, harness.path / "cache")
    history = (harness.path / "results" / "history.jsonl").read_text().splitlines()
    assert len(history) == 2 and all(json.loads(line)["top_1"]["tflite_quantized"] == 1.0 for line in history)
