"""The per-layer explanation end to end: `pytest suites/` on tiny projects, real MCT XQuant, no mocks.

A model with one layer that quantizes badly on purpose (the `outlier` conv puts red x 1000 on one channel,
so the per-tensor 8-bit step erases the three small channels `victim` reads) fails the accuracy gate;
the failing tests must name the worst layers, results.json carries the explanation, MCT's report lands in
evaluate_result_dir/xquant and the chart renders in a headless browser. A passing gate and
`"when": "never"` cost no XQuant run.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tiny
from runs import assert_short_messages, run_suites

pytestmark = pytest.mark.slow
LAYERS = ("outlier", "relu", "victim", "pool", "head")
QUANTIZED_CHECKS = ("test_quantized_top1_drop_within_threshold", "test_quantized_keras_top1_drop_within_threshold")
CHART_ALT = "per-layer SQNR"
WORST_RED = (0xCF, 0x22, 0x2E)  # vsq.rendering.explain_chart marks the worst layers in this colour
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1800", "--virtual-time-budget=10000"]


def write_badly_quantizing_model(path: Path) -> Path:
    """Float Top-1 1.0 on tiny's colour images; the quantized model loses the colours at `victim`."""
    import tensorflow as tf

    layers = tf.keras.layers
    inputs = tf.keras.Input((tiny.SIZE, tiny.SIZE, 3))
    x = layers.Conv2D(8, 1, name="outlier")(inputs)
    x = layers.ReLU(name="relu")(x)  # keeps MCT from collapsing the two linear convs into one
    x = layers.Conv2D(4, 1, name="victim")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    model = tf.keras.Model(inputs, layers.Dense(len(tiny.CLASSES), activation="softmax", name="head")(x))
    rng = np.random.default_rng(0)
    # Small noise rather than zeros: an all-zero weight channel makes the INT8 export fall back to float.
    first = rng.normal(0, 1e-3, size=(1, 1, 3, 8)).astype(np.float32)
    first[0, 0, :, 0] = [1000.0, 0.0, 0.0]  # the outlier channel: red x 1000
    first[0, 0, :, 1:4] = np.eye(3)  # channels 1..3: R, G, B in 0..1
    model.get_layer("outlier").set_weights([first, np.zeros(8, np.float32)])
    second = rng.normal(0, 1e-3, size=(1, 1, 8, 4)).astype(np.float32)
    second[0, 0, 1:4, :3] = np.eye(3)  # victim's outputs 0..2: R, G, B (the outlier channel ignored)
    model.get_layer("victim").set_weights([second, np.zeros(4, np.float32)])
    head = rng.normal(0, 1e-3, size=(4, len(tiny.CLASSES))).astype(np.float32)
    for cls, name in enumerate(tiny.CLASSES):
        head[tiny.CHANNEL[name], cls] = 10.0
    model.get_layer("head").set_weights([head, np.zeros(len(tiny.CLASSES), np.float32)])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def bad_model(tmp_path_factory) -> Path:
    return write_badly_quantizing_model(tmp_path_factory.mktemp("bad_model") / "model.h5")


def _project(root: Path, model: Path, **overrides) -> Path:
    tiny.write_data(root)
    return tiny.write_config(root, source_keras_model=str(model), **overrides)


def _failures(junit: Path) -> dict[str, str]:
    return {case.get("name").split("[")[0]: case.find("failure").get("message")
            for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None}


def _properties(junit: Path, test: str) -> dict[str, str]:
    case = next(c for c in ET.parse(junit).iter("testcase") if c.get("name").startswith(test + "["))
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def _named_layers(message: str) -> list[str]:
    """The layer names of a failure_hint: '...; lowest SQNR: a (Conv2D) 3.1 dB, b (Dense) 40.0 dB, ...; try ...'."""
    listed = message.split("; lowest SQNR: ", 1)[1].split("; ")[0]
    return [item.split(" (")[0] for item in listed.split(", ")]


def _browser_sees_chart(page: Path, tmp_path: Path) -> str:
    """What a headless Chromium says about the explanation's chart once the page loaded:
    'naturalWidth x naturalHeight : shown width', or 'missing'."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for this test (bash scripts/setup_tests.sh installs it)"
    probe = tmp_path / "probe.html"
    script = ("<script>window.addEventListener('load', () => {"
              f"const img = [...document.images].find(i => i.alt.includes('{CHART_ALT}'));"
              "document.title = 'chart:' + (img ? img.naturalWidth + 'x' + img.naturalHeight + ':' + "
              "Math.round(img.getBoundingClientRect().width) : 'missing');});</script>")
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r"<title[^>]*>chart:([^<]*)</title>", dom)
    assert found, "the probe script did not run in the browser"
    return found.group(1)


def test_a_failing_gate_names_the_worst_layers_and_keeps_mcts_report(harness, bad_model, tmp_path):
    project = harness.path / "project"
    config = _project(project, bad_model)
    before = set(p.name for p in harness.path.iterdir())

    result = run_suites(harness, config, extra=["--junitxml=junit.xml", "--html=report.html", "--self-contained-html",
                                                "--durations=8"])
    print("\n".join(line for line in result.stdout.lines if re.match(r"\s*[\d.]+s (setup|call) ", line)))

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    failures = _failures(harness.path / "junit.xml")
    assert set(QUANTIZED_CHECKS) <= set(failures), f"the gate did not fail as designed: {sorted(failures)}"
    assert_short_messages(failures, "configuration")  # the worst layers named, still one short sentence
    for name in QUANTIZED_CHECKS:
        named = _named_layers(failures[name])
        assert len(named) == 3 and set(named) <= set(LAYERS), failures[name]
        # SQNR is measured on each layer's output, so the noise made at `victim` carries on to `head`.
        assert set(named[:2]) == {"victim", "head"} and named[2] == "outlier", failures[name]
        assert "mct_mixed_precision" in failures[name] and "report: project/results/xquant" in failures[name]
    properties = _properties(harness.path / "junit.xml", QUANTIZED_CHECKS[0])
    assert properties["explanation_status"] == "ok" and properties["worst_layer_1"] in ("victim", "head")
    assert float(properties["explanation_seconds"]) > 0 and "explanation_error" not in properties

    document = json.loads((project / "results" / "results.json").read_text())
    section = document["explanation"]
    assert (section["status"], section["cache"], section["when"]) == ("ok", "built", "on_failure")
    assert document["cache"]["explanation"] == "built"
    assert [layer["name"] for layer in section["layers"]] == ["outlier", "victim", "head"]
    # Where it broke: the first layer along the network whose output is mostly quantization noise.
    first_bad = next(layer["name"] for layer in section["layers"] if layer["validation"]["sqnr_db"] < 10)
    assert first_bad == "victim" and section["layers"][0]["validation"]["sqnr_db"] > 30, section["layers"]
    assert section["images"] == {"representative": 16, "validation": 32}
    report_dir = project / "results" / "xquant"
    assert section["report_dir"] == str(report_dir)
    assert sorted(str(p.relative_to(report_dir)) for p in report_dir.rglob("*") if p.is_file()) == section["files"]
    assert (report_dir / "quant_report.json").is_file()
    assert any(name.startswith("xquant/events.out.tfevents") for name in section["files"])
    # XQuant's files (its log folders, TensorBoard events, report) nowhere else: not in the working
    # directory (the harness folder, also pytester's HOME), not beside the configuration.
    xquant_files = [p for p in harness.path.rglob("*") if p.name.startswith("logs_") or "tfevents" in p.name
                    or p.name in ("quant_report.json", "mct_log.log")]
    assert xquant_files and all(report_dir in p.parents for p in xquant_files), xquant_files
    assert {"cache", "junit.xml", "report.html"} <= set(p.name for p in harness.path.iterdir()) - before
    assert sorted(p.name for p in project.iterdir()) == sorted(
        ["configuration.json", "evaluate", "images", "output", "results"])
    print(f"explanation: XQuant {section['seconds']:.1f} s, whole build {section['build_seconds']:.1f} s; "
          f"worst {section['worst']}")

    # The HTML report: the chart is there, names the worst layer in red, and a real browser decodes it.
    page = (harness.path / "report.html").read_text()
    chart = re.search(rf'<img class="vsq-chart" alt="[^"]*{CHART_ALT}[^"]*" src="data:image/png;base64,([^"]+)"', page)
    assert chart, "no explanation chart in the HTML report"
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(chart.group(1)))) as image:
        assert image.size[0] >= 800 and WORST_RED in {colour for _, colour in image.convert("RGB").getcolors(1 << 20)}
    seen = _browser_sees_chart(harness.path / "report.html", tmp_path)
    width, height, shown = (int(n) for n in re.match(r"(\d+)x(\d+):(\d+)$", seen).groups())
    assert width == image.size[0] and height == image.size[1] and shown > 100, seen

    # A warm run reuses the explanation and delivers MCT's report again from the cache.
    shutil.rmtree(report_dir)
    warm = run_suites(harness, config)
    assert warm.ret == pytest.ExitCode.TESTS_FAILED
    again = json.loads((project / "results" / "results.json").read_text())["explanation"]
    assert (again["cache"], again["build_seconds"], again["worst"]) == ("hit", None, section["worst"])
    assert sorted(str(p.relative_to(report_dir)) for p in report_dir.rglob("*") if p.is_file()) == section["files"]


def test_never_and_a_passing_gate_run_no_xquant(harness, bad_model, tiny_model):
    never = _project(harness.path / "never", bad_model, explanation={"when": "never"})
    stale = harness.path / "never" / "results" / "xquant" / "old.txt"  # an earlier run's report
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    passing = _project(harness.path / "passing", tiny_model).rename(harness.path / "passing" / "passing.json")

    result = run_suites(harness, never, passing, extra=["--junitxml=junit.xml"])

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    assert "per-layer explanation" not in result.stdout.str() + result.stderr.str()
    failures = _failures(harness.path / "junit.xml")
    assert "lowest SQNR" not in failures[QUANTIZED_CHECKS[0]]
    failed_ids = [case.get("name") for case in ET.parse(harness.path / "junit.xml").iter("testcase")
                  if case.find("failure") is not None]
    assert failed_ids and not [name for name in failed_ids if "passing" in name], failed_ids
    for folder, reason in (("never", "explanation.when is never"), ("passing", "passed (explanation.when is on_failure)")):
        document = json.loads((harness.path / folder / "results" / "results.json").read_text())
        assert document["explanation"]["status"] == "skipped" and reason in document["explanation"]["reason"]
        assert "explanation" not in document["cache"]
        assert not (harness.path / folder / "results" / "xquant").exists()
    assert not (harness.path / "cache" / "explanation").exists()
    assert _properties(harness.path / "junit.xml", QUANTIZED_CHECKS[0])["explanation_status"] == "skipped"
