"""A pytest plugin timing vsq's phases, with each phase's peak RSS: `pytest -p benchmarks.phases`.

Writes a JSON list to $VSQ_PHASES (one row per phase: seconds, peak RSS in MB, calls). Times are
exclusive: a phase nested in another (the Keras model loaded inside model_info) counts only for
itself; end_rss_mb is the resident memory when the phase last ended. The peak is exact, not
sampled: at every phase boundary the kernel's high-water mark (VmHWM) is read, charged to the
phase that just ran, and reset (/proc/self/clear_refs, Linux). Benchmark code only: it wraps vsq
functions from outside (per model evaluation, MCT's calibration and exports); production code has
no hook. VSQ_CHUNK_IMAGES sets vsq.pipeline.evaluate.CHUNK_IMAGES (128 measures the evaluation as it was).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

# Session fixtures of vsq/pytest_plugin/harness.py and what the spec-size report calls them.
FIXTURES = {
    "keras_model": "load (TensorFlow import, Keras model)",
    "model_info": "model interface",
    "calibration": "decode calibration images",
    "float_tflite": "export model.tflite",
    "default_build": "quantized recipe (other)",
    "quantized_tflite": "quantized recipe (other)",
    "reference_evaluations": "evaluation: decode wait, metrics, cache",
    "results": "reports: results.json",
}


class Phases:
    """Exclusive wall time and peak RSS per phase, from a stack of nested phases."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.stack = ["pytest (startup, collection, tests, rest)"]
        self.mark = time.perf_counter()
        self._reset_peak()

    def enter(self, name: str) -> None:
        self._charge()
        self.stack.append(name)
        self.rows.setdefault(name, {"seconds": 0.0, "peak_rss_mb": 0.0, "calls": 0})["calls"] += 1

    def leave(self) -> None:
        self._charge()
        self.rows[self.stack.pop()]["end_rss_mb"] = _status_kb("VmRSS") / 1024  # what the phase left behind

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            self.enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave()
        return timed

    def _charge(self) -> None:
        """Charge the time and peak RSS since the last boundary to the running phase, then reset both."""
        now = time.perf_counter()
        row = self.rows.setdefault(self.stack[-1], {"seconds": 0.0, "peak_rss_mb": 0.0, "calls": 1})
        row["seconds"] += now - self.mark
        row["peak_rss_mb"] = max(row["peak_rss_mb"], _status_kb("VmHWM") / 1024)
        self.mark = now
        self._reset_peak()

    @staticmethod
    def _reset_peak() -> None:
        Path("/proc/self/clear_refs").write_text("5")

    def write(self, path: str) -> None:
        self._charge()
        rows = [{"phase": name, **{k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}}
                for name, row in self.rows.items()]
        Path(path).write_text(json.dumps(rows, indent=1))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


PHASES = Phases()


def pytest_configure(config):
    from vsq.pipeline import evaluate
    from vsq.frameworks.keras import quantize
    from vsq.sections import screen

    quantize.ptq = PHASES.wrap("calibration (MCT PTQ)", quantize.ptq)
    screen.run_screen = PHASES.wrap("preprocessing screen (decode, every pass)", screen.run_screen)
    quantize.export_int8_tflite = PHASES.wrap("export model_quantized.tflite (MCT)", quantize.export_int8_tflite)
    quantize.export_keras = PHASES.wrap("export model_quantized.keras (MCT)", quantize.export_keras)
    evaluate_models = evaluate.evaluate_models

    def per_model(predictors, *args, **kwargs):
        timed = {name: PHASES.wrap(f"evaluation: {name}", predict) for name, predict in predictors.items()}
        return evaluate_models(timed, *args, **kwargs)

    evaluate.evaluate_models = per_model
    if os.environ.get("VSQ_CHUNK_IMAGES"):  # to measure the evaluation as it was (128-image chunks)
        evaluate.CHUNK_IMAGES = int(os.environ["VSQ_CHUNK_IMAGES"])


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    name = FIXTURES.get(fixturedef.argname)
    if name is None:
        yield
        return
    PHASES.enter(name)
    try:
        yield
    finally:
        PHASES.leave()


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter):
    PHASES.enter("reports: terminal summary")
    yield
    PHASES.leave()


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session):
    PHASES.enter("reports: session finish (history, HTML)")
    yield
    PHASES.leave()


def pytest_unconfigure(config):
    if os.environ.get("VSQ_PHASES"):
        PHASES.write(os.environ["VSQ_PHASES"])
