"""Reports for reviewers and the nightly gate: HTML, baselines, history, workers (pytester runs)."""

import html
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tiny
from vsq.statistics import per_image

pytestmark = pytest.mark.slow


def run(harness, *args, cache=None):
    return harness.runpytest_subprocess("suites/", f"--vsq-cache-dir={cache or harness.path / 'cache'}", *args)


@pytest.fixture
def warm_cache(shared_cache):
    """The session's shared cache: the tiny projects are identical, so only the first run builds."""
    return shared_cache


@pytest.fixture
def run_warm(harness, warm_cache):
    return lambda *args: run(harness, *args, cache=warm_cache)


@pytest.fixture
def project(harness, tiny_model):
    tiny.write_data(harness.path)
    return tiny.write_config(harness.path, source_keras_model=str(tiny_model))


def test_html_report_has_table_and_charts_and_junit_has_run_properties(harness, project, run_warm):
    result = run_warm("--config", str(project), "--html=reports/report.html", "--self-contained-html",
                 "--junitxml=reports/junit.xml")
    assert result.ret == 0
    page = (harness.path / "reports" / "report.html").read_text()
    assert '<table class="vsq-summary">' in page
    assert ">vsq: accuracy of the quantized models</title>" in page  # not pytest-html's "report.html"
    models = json.loads((harness.path / "results" / "results.json").read_text())["models"]
    assert [model["top_5_accuracy"] for model in models.values()] == [None] * 4  # 3 classes: Top-5 does not apply
    # Four Top-1 figures, each over its Wilson interval; the drop with its paired interval; the verdict word.
    top1 = r'<td>1\.0000<br><span class="vsq-ci">\[0\.9\d\d, 1\.000\]</span></td>'
    assert re.search(r"<td>configuration</td>" + top1 * 4 + r"<td>\+0\.00 \[-\d+\.\d, \+\d+\.\d\]</td>"
                     r'<td><span class="vsq-verdict vsq-pass" title="rule point at 95 %">PASS</span></td>'
                     r"<td>n/a</td>(<td>[\d.,]+ KiB</td>){4}<td>36</td><td><span class=\"vsq-pass\">PASS</span></td></tr>",
                     page)
    header = re.search(r'<table class="vsq-summary"><thead><tr>(.*?)</tr></thead>', page).group(1)
    assert "IMX500" not in header  # no configuration has the imx500 section
    assert "drop (pp) [95% CI]" in header and "Top-1 quantized Keras" in header
    assert "No image flipped" in page  # the tiny model keeps every prediction
    from vsq.reporting.html import FOREST_ALT

    for chart in (FOREST_ALT, "configuration: per-class Top-1, float vs quantized",
                  "configuration: confusion matrix of the quantized model"):
        assert f'class="vsq-chart" alt="{chart}"' in page, chart
    # pytest-html draws its Environment table from a JSON blob in the page.
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))
    environment = blob["environment"]
    assert environment["Model Compression Toolkit"] == "2.6.1" and environment["TensorFlow"] == "2.15.1"
    assert {"vsq", "LiteRT"} <= set(environment)
    assert "builtin_without_default_delegates" in environment["TFLite runtime (configuration)"]
    assert page.count("data:image/png;base64,") >= 3

    suite = ET.parse(harness.path / "reports" / "junit.xml").getroot().find("testsuite")
    facts = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert facts["version_tensorflow"] == "2.15.1"
    assert facts["version_model_compression_toolkit"] == "2.6.1"
    assert {"version_vsq", "git_commit", "host"} <= set(facts)
    # What the figures are of (vsq.provenance), per configuration; and the same table on the HTML page.
    assert {"configuration_source_keras_model_sha256", "configuration_configuration_sha256",
            "configuration_evaluation_images_sha256", "configuration_git_commit"} <= set(facts)
    assert facts["configuration_source_keras_model_sha256"] in page and "<h2>Provenance and versions</h2>" in page
    case = next(c for c in suite.iter("testcase") if c.get("name") == "test_quantized_top1_drop_within_threshold[configuration]")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["configuration"] == "configuration"
    assert {"top_1_accuracy_keras", "top_1_accuracy_tflite_quantized", "top_1_drop_points", "max_top1_drop",
            "num_images"} <= set(properties)


def test_baseline_drop_fails_and_accept_replaces_it_keeping_the_old_one(harness, project, run_warm, tiny_model):
    """With a `baseline` key in the configuration too: --baseline wins (docs/nightly.md), the key's file is never
    written; without the option, the key's file is the baseline."""
    baseline = harness.path / "gate" / "baseline.json"
    previous = harness.path / "gate" / "baseline.previous.json"
    from_the_key = harness.path / "gate" / "from-the-key.json"
    model = harness.path / "model.h5"  # the tiny model's bytes (the cache's builds serve it); a worse one later
    shutil.copyfile(tiny_model, model)
    project.write_text(json.dumps({**json.loads(project.read_text()), "baseline": str(from_the_key),
                                   "source_keras_model": str(model), "screen": {"enabled": False}}))

    missing = run_warm("--config", str(project), f"--baseline={baseline}")
    assert missing.ret == 1
    missing.stdout.fnmatch_lines(["*no accepted Top-1 of model_quantized.tflite for configuration 'configuration'*"
                                  "--accept-baseline*"])

    accepted = run_warm("--config", str(project), f"--baseline={baseline}", "--accept-baseline")
    assert accepted.ret == 0
    assert json.loads(baseline.read_text())["configurations"]["configuration"]["top_1"]["tflite_quantized"] == 1.0
    assert not previous.exists()

    # Pretend the accepted run saw 6 images fewer: paired on the 30 both share, the 6 reported as added.
    data = json.loads(baseline.read_text())
    entry = data["configurations"]["configuration"]
    ids, bits = per_image.read(entry["per_image"])
    entry["per_image"] = per_image.record(ids[6:], {name: right[6:] for name, right in bits.items()})
    baseline.write_text(json.dumps(data))
    changed = run_warm("--config", str(project), f"--baseline={baseline}", "--junitxml=junit.xml")
    assert changed.ret == 0
    case = next(c for c in ET.parse(harness.path / "junit.xml").iter("testcase")
                if c.get("name") == "test_no_drop_against_baseline[configuration-tflite_quantized]")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["baseline_paired"] == "True" and properties["baseline_verdict"] == "PASS"
    assert (properties["images_added"], properties["images_removed"]) == ("6", "0")

    # The entry as a vsq that kept no per-image results wrote it (format 1); then the model regresses under the
    # same configuration (same path, another file): blue is never predicted, Top-1 24/36, compared as points
    # (the preprocessing screen, off, would say [-1,1] suits this model better).
    del entry["per_image"]
    baseline.write_text(json.dumps(data))
    tiny.write_model(model, head=tiny.colour_head() * np.array([0, 1, 1], np.float32))
    dropped = run_warm("--config", str(project), f"--baseline={baseline}", "--junitxml=junit.xml")
    assert dropped.ret == 1
    outcomes = dropped.parseoutcomes()
    assert outcomes["failed"] == 4 and "errors" not in outcomes, outcomes  # each reference model dropped
    dropped.stdout.fnmatch_lines(["*model_quantized.tflite Top-1 0.6667 is 33.33 points below the accepted 1.0000*"
                                  "unpaired*max_baseline_drop is 0.5 points*--accept-baseline*"])
    cases = {c.get("name"): c for c in ET.parse(harness.path / "junit.xml").iter("testcase")}
    assert cases["test_no_drop_against_baseline[configuration-tflite_quantized]"].find("failure") is not None
    assert cases["test_baseline_matches_configuration_and_stack[configuration]"].find("failure") is None

    reaccepted = run_warm("--config", str(project), f"--baseline={baseline}", "--accept-baseline")
    assert reaccepted.ret == 0
    assert json.loads(previous.read_text())["configurations"]["configuration"]["top_1"]["tflite_quantized"] == 1.0
    assert json.loads(baseline.read_text())["configurations"]["configuration"]["top_1"]["tflite_quantized"] == 24 / 36

    assert not from_the_key.exists()
    keyed = run_warm("--config", str(project))  # no --baseline: the configuration's key, which has no entry yet
    assert keyed.ret == 1
    keyed.stdout.fnmatch_lines(["*no accepted Top-1 of model_quantized.tflite for configuration 'configuration'*"])
    assert not from_the_key.exists()


def test_a_baseline_made_by_another_stack_and_configuration_is_its_own_failing_check(harness, project, run_warm):
    """The figures are the same, so the drop check passes; the baseline's origin does not match: that check
    fails, saying what differs and how to accept again."""
    baseline = harness.path / "gate" / "baseline.json"
    assert run_warm("--config", str(project), f"--baseline={baseline}", "--accept-baseline").ret == 0
    data = json.loads(baseline.read_text())
    entry = data["configurations"]["configuration"]
    tensorflow = entry["stack"]["tensorflow"]
    entry["stack"]["tensorflow"] = "2.0.0"
    entry["configuration_digest"] = "0123456789abcdef"
    baseline.write_text(json.dumps(data))

    other = run_warm("--config", str(project), f"--baseline={baseline}", "--junitxml=junit.xml")
    assert other.ret == 1
    cases = ET.parse(harness.path / "junit.xml").iter("testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["test_baseline_matches_configuration_and_stack[configuration]"]
    assert re.match(
        r"AssertionError: configuration: the baseline in \S*baseline\.json \(accepted \S+\) was made by another "
        r"configuration \(digest 0123456789abcdef, today [0-9a-f]{16}: a setting that makes the figures changed\) "
        r"and another stack "
        rf"\(tensorflow 2\.0\.0 -> {re.escape(tensorflow)}\): the comparison with it is not like for like; if the new "
        r"figure is right, accept it: pytest suites/ --config \S+ --baseline \S+ --accept-baseline",
        failed[0].find("failure").get("message")), failed[0].find("failure").get("message")


def test_the_reports_baseline_candidate_is_a_baseline_this_configuration_and_stack_accept(harness, project, run_warm):
    """The CI path: a run, `vsq report --baseline-candidate` over its results.json, the candidate committed as
    the baseline: the next run compares with it, paired, and its origin matches (results.json round trip)."""
    assert run_warm("--config", str(project)).ret == 0
    candidate = harness.path / "baselines" / "nightly.json"
    made = subprocess.run([sys.executable, "-m", "vsq", "report", str(harness.path / "results"),
                           "--baseline-candidate", str(candidate)], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    compared = run_warm("--config", str(project), f"--baseline={candidate}", "--junitxml=junit.xml")
    assert compared.ret == 0, compared.stdout.str()[-3000:]
    cases = ET.parse(harness.path / "junit.xml").iter("testcase")
    verdicts = {case.get("name"): case.find("failure") is None for case in cases if "baseline" in case.get("name")}
    assert verdicts == {"test_baseline_matches_configuration_and_stack[configuration]": True,
                        **{f"test_no_drop_against_baseline[configuration-{model}]": True
                           for model in ("keras", "tflite", "tflite_quantized", "keras_quantized")}}


def test_history_grows_one_line_per_run_and_prints_a_trend(harness, project, run_warm):
    history = harness.path / "results" / "history.jsonl"
    for runs in (1, 2, 3):
        result = run_warm("--config", str(project), *(("--html=report.html", "--self-contained-html") if runs == 3 else ()))
        assert result.ret == 0
        assert len(history.read_text().splitlines()) == runs
        moved = [line for line in result.stdout.lines if line.startswith("configuration: nothing moved since")]
        assert len(moved) == (0 if runs == 1 else 1), result.stdout.lines  # a first run has nothing to compare
    line = json.loads(history.read_text().splitlines()[-1])
    assert line["configuration"] == "configuration" and line["top_1"]["tflite_quantized"] == 1.0
    assert line["gate"] == "PASS" and line["drops"]["tflite_quantized"]["verdict"] == "PASS"
    assert len(line["drops"]["tflite_quantized"]["interval_points"]) == 2
    page = (harness.path / "report.html").read_text()
    assert 'alt="configuration: trend of the last 3 runs" src="data:image/png;base64,' in page
    assert '<p class="vsq-moved">configuration: nothing moved since the previous run' in page
    assert '<p class="vsq-reason">' not in page  # a passing configuration says nothing extra

    import sys

    out = subprocess.run([sys.executable, "-m", "vsq", "history", str(history.parent), "--plot",
                          str(harness.path / "trend.png")], capture_output=True, text=True, check=True).stdout
    assert len([row for row in out.splitlines() if re.match(r"\d{4}-\d\d-\d\dT.* configuration ", row)]) == 3
    assert (harness.path / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_configurations_on_two_workers_are_each_quantized_once(harness, tiny_model):
    configs = []
    for name in ("first", "second"):
        tiny.write_data(harness.path / name)
        configs += ["--config", str(tiny.write_config(harness.path / name, name=f"{name}.json",
                                                      source_keras_model=str(tiny_model)))]
    result = run(harness, *configs, "-n", "2", "--dist", "loadgroup", "-v")
    assert result.ret == 0
    workers = {}
    for line in result.stdout.lines:
        found = re.match(r"\[(gw\d)\] .*(PASSED|FAILED).*\[(?:.*-)?(first|second)(?:-\w+)?\]", line)
        if found:
            workers.setdefault(found.group(3), set()).add(found.group(1))
    assert set(workers) == {"first", "second"}
    assert all(len(ids) == 1 for ids in workers.values()), workers  # each configuration on one worker only
    for name in ("first", "second"):
        document = json.loads((harness.path / name / "results" / "results.json").read_text())
        assert document["cache"]["model_quantized.tflite"] == "built"
    result.stdout.re_match_lines([r"first\s+1\.0000.*PASS", r"second\s+1\.0000.*PASS"])


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,1800"]


# Appended to a copy of the report: once the page has loaded, what the browser decoded of the gallery.
GALLERY_PROBE = """<script>window.addEventListener("load", () => {
  const thumbs = [...document.querySelectorAll("img.vsq-thumb")];
  const out = document.createElement("pre"); out.id = "vsq-probe";
  out.textContent = JSON.stringify({widths: thumbs.map(t => t.naturalWidth), shown: thumbs.map(t => t.width),
    captions: [...document.querySelectorAll(".vsq-flip figcaption")].map(c => c.innerText)});
  document.body.appendChild(out);
});</script>"""


def test_html_report_renders_in_a_headless_browser(harness, tiny_model, run_warm, tmp_path):
    from test_gallery import write_flipping_project

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for this test (bash scripts/setup_tests.sh installs it)"
    project = write_flipping_project(harness.path, tiny_model)  # model_quantized.tflite flips > 24 images
    assert run_warm("--config", str(project), "--html=report.html", "--self-contained-html").ret == 0
    page = (harness.path / "report.html").read_text()
    flipped = json.loads((harness.path / "results" / "results.json").read_text())["models"]["tflite_quantized"]["flipped"]
    assert len(flipped) > 24 and page.count("data:image/jpeg;base64,") == 24
    probe = harness.path / "report-probe.html"
    probe.write_text(page.replace("</body>", GALLERY_PROBE + "</body>"))
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    seen = json.loads(html.unescape(re.search(r'<pre id="vsq-probe">(.*?)</pre>', dom, flags=re.S).group(1)))
    assert seen["widths"] == [96] * 24 and seen["shown"] == [96] * 24  # every thumbnail decoded and laid out
    assert len(seen["captions"]) == 24
    for caption, row in zip(seen["captions"], flipped):  # results.json's order: losses first
        assert caption.split("\n")[:4] == [row["kind"].replace("_", " "), f"true: {row['true']}",
                                            f"Keras: {row['keras']['class']} ({row['keras']['score']:.4f})",
                                            f"quantized: {row['model']['class']} ({row['model']['score']:.4f})"]
    assert seen["captions"][0].startswith("loss") and "red" in seen["captions"][0]
    shot = harness.path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    (harness.path / "report.html").as_uri()], capture_output=True, timeout=120, check=True)
    from PIL import Image

    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert image.size == (1280, 1800)
        colours = pixels.getcolors(maxcolors=1 << 16)
    # A rendered report with charts has many colours; a blank or error page has a handful.
    assert colours is None or len(colours) > 200
    # Kept beside the test folders so that a person can look at the page after the run.
    shutil.copy(shot, harness.path.parent / "vsq-report-screenshot.png")
