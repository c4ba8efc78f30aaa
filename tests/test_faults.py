"""Faults: a run killed at any point, or two runs at once, never leave a half-written file."""

import json
import os
import re
import signal
import subprocess
import sys
import zipfile

import pytest

import tiny
from vsq.cache.store import Cache

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
    from vsq.runtimes.tflite import open_for_inspection

    leftovers = [p for p in root.rglob(".*") if ".tmp" in p.name]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    for model in (root / "output").glob("*.tflite"):
        open_for_inspection(model)  # raises on a truncated file
    for model in (root / "output").glob("*.keras"):  # a .keras file is a zip archive: every member whole
        with zipfile.ZipFile(model) as archive:
            assert archive.testzip() is None, model
    results = root / "results" / "results.json"
    if results.exists():
        assert "top_1_accuracy_tflite_quantized" in json.loads(results.read_text())
    cache = Cache(cache_root)
    for entry in cache_root.glob("*/*"):
        assert not entry.name.startswith("."), f"a half-built cache entry was left: {entry}"
        assert cache.get(entry.parent.name, entry.name) is not None, f"damaged cache entry {entry}"


# Loaded with -p into the "start-up" run: during collection it says so and waits until the test has sent its
# signal (the file "signal_sent"), so the signal lands in start-up whatever the machine's load.
STARTUP_PLUGIN = """
import os, time

def pytest_collection_modifyitems(session, config, items):
    print("vsq-test: collecting", flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists("signal_sent") and time.monotonic() < deadline:
        time.sleep(0.01)
"""
# phase: (the line that says the run is in it, the signal, whether the run may finish before the signal lands)
PHASES = {"start-up": ("vsq-test: collecting", signal.SIGINT, False),
          "quantizing": ("configuration: calibration:", signal.SIGTERM, False),  # MCT's PTQ follows
          "evaluating": ("configuration: evaluating", signal.SIGINT, True)}
# What output_dir holds after the signal, whole (each opened below): the float file is delivered before the
# quantized build starts, both exports before the evaluation.
WRITTEN = {"start-up": set(), "quantizing": {"model.tflite"},
           "evaluating": {"model.tflite", "model_quantized.tflite", "model_quantized.keras"}}


def signal_at(run, line: str, signum) -> list[str]:
    """Read the run's output until `line` starts one, then send `signum`: the lines read so far."""
    seen = []
    for text in run.stdout:
        seen.append(text)
        if text.lstrip().startswith(line):
            run.send_signal(signum)
            return seen
    raise AssertionError(f"the run ended without saying {line!r}: {''.join(seen)[-2000:]}")


@pytest.mark.parametrize("phase", PHASES)
def test_interrupted_run_leaves_nothing_half_written(harness, tiny_model, phase):
    line, signum, may_finish = PHASES[phase]
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    (harness.path / "startup_plugin.py").write_text(STARTUP_PLUGIN)
    run = start(harness, config, "--no-cache", *(["-p", "startup_plugin"] if phase == "start-up" else []))
    seen = signal_at(run, line, signum)
    (harness.path / "signal_sent").touch()
    output = "".join(seen) + run.communicate(timeout=120)[0]
    assert run.returncode in ((0, 2) if may_finish else (2,)), output[-2000:]  # 2: interrupted
    if phase == "start-up":  # one line, no traceback, nothing written
        assert "vsq: interrupted during start-up (SIGINT): no test ran and nothing was written" in output, output
        assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
        assert not (harness.path / "output").exists() and not (harness.path / "results").exists()
    elif run.returncode == 2:  # interrupted during the run, or after it in pytest's clean-up (the run finished)
        assert "KeyboardInterrupt" in output or (may_finish and re.search(r"\d+ passed", output)), output[-2000:]
    output_dir = harness.path / "output"
    written = {p.name for p in output_dir.iterdir()} if output_dir.exists() else set()
    assert written == WRITTEN[phase], written
    assert_nothing_half_written(harness.path, harness.path / "cache")


# Loaded into the first run with -p: before its accuracy tests, it runs a whole second run of the same
# configuration, which replaces results.json and appends its history line while the first is mid-suites.
INTERLEAVE_PLUGIN = """
import json, os, subprocess

def pytest_runtest_setup(item):
    if not item.name.startswith("test_quantized_top1_drop_within_threshold"):
        return
    second = os.environ.pop("VSQ_TEST_SECOND_RUN", None)
    if second:
        done = subprocess.run(json.loads(second), capture_output=True, text=True)
        with open("second_run.log", "w") as log:
            log.write(str(done.returncode) + "\\n" + done.stdout)
"""


def history_lines(root):
    return [json.loads(line) for line in (root / "results" / "history.jsonl").read_text().splitlines()]


def test_a_run_that_another_run_overtakes_keeps_its_table_and_history_line(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    (harness.path / "interleave_plugin.py").write_text(INTERLEAVE_PLUGIN)
    second = [sys.executable, "-m", "pytest", "suites/", "--config", str(config), "-p", "no:cacheprovider",
              f"--vsq-cache-dir={harness.path / 'cache'}"]
    first = subprocess.run([*second, "-p", "interleave_plugin"], cwd=harness.path, capture_output=True, text=True,
                           env={**os.environ, "VSQ_TEST_SECOND_RUN": json.dumps(second)}, timeout=300)
    second_code, second_output = (harness.path / "second_run.log").read_text().split("\n", 1)
    assert second_code == "0", second_output[-1500:]
    assert first.returncode == 0, first.stdout[-1500:]
    assert re.search(r"configuration\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+PASS", first.stdout)
    on_disk = json.loads((harness.path / "results" / "results.json").read_text())
    assert on_disk["gate"]["verdict"] == "PASS"  # one whole document, of one of the two runs
    lines = history_lines(harness.path)
    assert len(lines) == 2 and len({line["run_id"] for line in lines}) == 2
    assert all(line["top_1"]["tflite_quantized"] == 1.0 for line in lines)
    assert_nothing_half_written(harness.path, harness.path / "cache")


def test_two_runs_at_once_with_two_workers_each(harness, tiny_model):
    tiny.write_data(harness.path)
    config = tiny.write_config(harness.path, source_keras_model=str(tiny_model))
    runs = [start(harness, config, "-n", "2", "--dist", "loadgroup") for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [out[-1500:] for out in outputs]
    for output in outputs:
        assert re.search(r"configuration\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+PASS", output)
    assert_nothing_half_written(harness.path, harness.path / "cache")
    lines = history_lines(harness.path)
    assert len(lines) == 2 and len({line["run_id"] for line in lines}) == 2
