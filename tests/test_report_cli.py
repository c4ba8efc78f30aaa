"""`python -m vsq report` over the results.json of three real, separate runs (one failing), the `gate`
section those runs write, and the GitHub Actions workflow that uses both (checked by actionlint)."""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import tiny

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "vsq.yml"
OTHER_RUN = '''"""Another run replaces results.json while this one finishes (as a second nightly would)."""
import json, os, pytest

@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    with open(os.environ["OTHER_RUN_RESULTS"], "w") as out:
        json.dump({"run_id": "another-run"}, out)
'''


def vsq(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vsq", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model, shared_cache):
    """Three separate pytest runs of the harness sharing the run's cache: alpha, beta (under two xdist workers)
    and gamma, whose Top-1 of 33/36 is below its min_top1; name -> results.json."""
    root = tmp_path_factory.mktemp("runs")
    harness = root / "harness"
    harness.mkdir()
    for name in ("pytest.ini",):
        shutil.copy(REPO / name, harness / name)
    for name in ("suites",):
        shutil.copytree(REPO / name, harness / name, ignore=shutil.ignore_patterns("__pycache__"))
    (harness / "other_run.py").write_text(OTHER_RUN)

    def run(name, *extra, mislabelled=0, env=None, **overrides):
        tiny.write_data(root / name, mislabelled=mislabelled)
        config = tiny.write_config(root / name, name=f"{name}.json", source_keras_model=str(tiny_model), **overrides)
        result = subprocess.run([sys.executable, "-m", "pytest", "suites/", "--config", str(config),
                                 f"--vsq-cache-dir={shared_cache}", "-p", "no:cacheprovider", *extra],
                                cwd=harness, capture_output=True, text=True, timeout=900, env=env)
        return result, root / name / "results" / "results.json"

    outcomes = {"alpha": run("alpha"), "beta": run("beta", "-n", "2", "--dist", "loadgroup"),
                "gamma": run("gamma", mislabelled=3, thresholds={"min_top1": 0.95})}
    assert [result.returncode for result, _ in outcomes.values()] == [0, 0, 1], \
        [result.stdout[-2000:] for result, _ in outcomes.values()]
    replaced = root / "delta" / "results" / "results.json"
    outcomes["delta"] = run("delta", "-p", "other_run", env={**os.environ, "PYTHONPATH": str(harness),
                                                               "OTHER_RUN_RESULTS": str(replaced)})
    return {name: path for name, (_, path) in outcomes.items()} | {"delta-run": outcomes["delta"][0],
                                                                    "gamma-run": outcomes["gamma"][0]}


def read(path):
    return json.loads(Path(path).read_text())


def test_each_run_writes_its_gate_into_results_json(runs):
    alpha, beta, gamma = (read(runs[name])["gate"] for name in ("alpha", "beta", "gamma"))
    assert alpha["verdict"] == "PASS" and alpha["failures"] == [] and alpha["tests"]["failed"] == 0
    assert alpha["tests"]["passed"] >= 10
    assert beta == alpha  # under pytest-xdist the controller writes the same section
    assert gamma["verdict"] == "FAIL" and gamma["tests"]["failed"] == 1
    assert gamma["tests"]["passed"] == alpha["tests"]["passed"] - 1
    [failure] = gamma["failures"]
    assert failure["test"] == "quantized_top1_above_minimum"  # the check's name: its test is test_<name>
    assert re.fullmatch(r"gamma: model_quantized\.tflite Top-1 0\.9167 is below thresholds\.min_top1 0\.9500.*",
                        failure["message"]) and "\n" not in failure["message"], failure
    # The terminal says why under the table, in the check's words.
    reason = "gamma: quantized_top1_above_minimum FAIL: " + failure["message"].removeprefix("gamma: ")
    lines = runs["gamma-run"].stdout.splitlines()
    assert reason in lines and lines.index(reason) < lines.index(next(line for line in lines
                                                                     if line.startswith("gamma: results in ")))


def test_a_run_never_writes_into_another_runs_results_json(runs):
    """A run writes its results.json once, when its figures are complete; it never reads it back or patches
    it at the end, so a file another run wrote meanwhile stays that run's."""
    assert read(runs["delta"]) == {"run_id": "another-run"}
    assert runs["delta-run"].returncode == 0


def test_report_over_three_runs_one_failing(runs, tmp_path):
    out = tmp_path / "out"
    result = vsq("report", runs["alpha"].parent, runs["beta"], runs["gamma"].parents[1], "--html", out / "report.html",
                 "--junit", out / "gate.xml", "--history", out / "history.jsonl")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["configuration", "Keras", "TFLite", "quantized", "q.", "Keras", "drop", "(pp)",
                                "[95%", "CI]", "verdict", "images", "gate"]
    assert set(lines[1]) == {"-", " "}
    assert re.fullmatch(r"alpha\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+PASS", lines[2])
    assert re.fullmatch(r"beta\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+PASS", lines[3])
    assert re.fullmatch(r"gamma\s+0\.9167\s+0\.9167\s+0\.9167\s+0\.9167\s+\+0\.00 \[\S+, \S+\]\s+PASS\s+36\s+FAIL", lines[4])
    assert ("gamma: quantized_top1_above_minimum FAIL: model_quantized.tflite "
            "Top-1 0.9167 is below thresholds.min_top1 0.9500") in result.stdout
    assert "vsq report: 3 configuration(s), 1 failed" in lines

    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and '<table class="vsq-summary">' in page
    assert re.search(r"<td>gamma</td><td>0\.9167.*?vsq-fail", page)
    assert page.count("data:image/png;base64,") >= 7  # the drop chart, two charts per configuration
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"""(src|href)=["'](?!data:)""", page) and "<link" not in page

    suite = ET.parse(out / "gate.xml").getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"alpha", "beta", "gamma"} and suite.get("failures") == "1"
    assert "below thresholds.min_top1" in cases["gamma"].find("failure").get("message")
    assert cases["alpha"].find("failure") is None

    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [line["configuration"] for line in history] == ["alpha", "beta", "gamma"]
    again = vsq("report", runs["alpha"], runs["beta"], runs["gamma"], "--history", out / "history.jsonl")
    assert "history: 0 line(s) appended" in again.stdout  # the same runs are not recorded twice
    assert len((out / "history.jsonl").read_text().splitlines()) == 3


def test_report_of_passing_runs_exits_0(runs):
    result = vsq("report", runs["alpha"], runs["beta"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vsq report: 2 configuration(s), 0 failed" in result.stdout


def test_results_json_without_gate_counts_as_failed(runs, tmp_path):
    document = read(runs["alpha"])
    del document["gate"]  # as an interrupted run leaves it
    (tmp_path / "results.json").write_text(json.dumps(document))
    result = vsq("report", runs["beta"], tmp_path)
    assert result.returncode == 1
    assert re.search(r"^alpha\s.*FAIL$", result.stdout, re.M)
    assert "alpha: no verdict recorded (its pytest run did not finish" in result.stdout


def test_same_configuration_in_two_folders_is_qualified_by_folder(runs, tmp_path):
    for job in ("vsq-nightly-a", "vsq-nightly-b"):
        (tmp_path / job / "results").mkdir(parents=True)
        shutil.copy(runs["alpha"], tmp_path / job / "results" / "results.json")
    result = vsq("report", tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^alpha \(vsq-nightly-a\)\s+1\.0000.*PASS$", result.stdout, re.M)
    assert re.search(r"^alpha \(vsq-nightly-b\)\s+1\.0000.*PASS$", result.stdout, re.M)


@pytest.mark.parametrize("case", ["missing", "empty-folder", "not-json", "not-results"])
def test_unusable_paths_exit_2_with_one_line(tmp_path, case):
    path = tmp_path / "given"
    if case == "empty-folder":
        path.mkdir()
    elif case == "not-json":
        path.write_text("{half")
    elif case == "not-results":
        path.write_text(json.dumps({"configuration": {"name": "x"}}))
    result = vsq("report", path)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"ERROR: {path}: ") and "give" in line, line


# Appended to a copy of the report: once the page has loaded, what the browser decoded and laid out.
REVIEW_PROBE = """<script>window.addEventListener("load", () => {
  const out = document.createElement("pre"); out.id = "vsq-probe";
  out.textContent = JSON.stringify({
    reasons: [...document.querySelectorAll("p.vsq-reason")].map(p => p.innerText),
    moved: [...document.querySelectorAll("p.vsq-moved")].map(p => p.innerText),
    charts: Object.fromEntries([...document.querySelectorAll("img.vsq-chart")].map(
      i => [i.alt, [i.complete, i.naturalWidth, i.naturalHeight, i.width]]))});
  document.body.appendChild(out);
});</script>"""


def test_html_report_renders_in_a_headless_browser(runs, tmp_path):
    """The report of a failing configuration with three nights of history (one line from an older vsq, one
    torn), as a reviewer opens it: the reason line, the forest plot and the trend decoded at their size."""
    import base64
    import html
    import io

    from PIL import Image

    from test_reports import CHROMIUM_FLAGS
    from datetime import datetime, timedelta

    from vsq.pipeline.results import read
    from vsq.reporting.html import FOREST_ALT
    from vsq.reporting.summary import reasons

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for this test (bash scripts/setup_tests.sh installs it)"
    nightly = tmp_path / "gamma-nightly"
    nightly.mkdir()
    shutil.copy(runs["gamma"], nightly / "results.json")
    today = json.loads((runs["gamma"].parent / "history.jsonl").read_text().splitlines()[-1])
    before = {key: value for key, value in today.items() if key not in ("drops", "gate", "confidence")}
    night = datetime.fromisoformat(today["time"]) - timedelta(days=1)
    before.update(time=f"{night - timedelta(days=1):%Y-%m-%dT%H:%M:%S%z}", run_id="older-vsq",
                  top_1={**today["top_1"], "tflite_quantized": 0.88})
    yesterday = {**today, "time": f"{night:%Y-%m-%dT%H:%M:%S%z}", "run_id": "yesterday", "gate": "PASS"}
    (nightly / "history.jsonl").write_text("\n".join([json.dumps(before), "{torn", json.dumps(yesterday),
                                                       json.dumps(today)]) + "\n")
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    assert vsq("report", runs["alpha"], nightly, "--html", page).returncode == 1
    text = page.read_text()
    probe = tmp_path / "report-probe.html"
    # The page's Content-Security-Policy forbids every script, the probe's too: the probe's copy goes without it.
    from vsq.reporting.report import CONTENT_SECURITY_POLICY
    policy = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
    assert policy in text
    probe.write_text(text.replace(policy, "").replace("</body>", REVIEW_PROBE + "</body>"))
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    seen = json.loads(html.unescape(re.search(r'<pre id="vsq-probe">(.*?)</pre>', dom, flags=re.S).group(1)))

    assert seen["reasons"] == [reason.line for reason in reasons("gamma", read(nightly / "results.json"))]
    assert seen["reasons"][0].startswith("gamma: quantized_top1_above_minimum FAIL: model_quantized.tflite Top-1 "
                                         "0.9167 is below thresholds.min_top1 0.9500")
    assert seen["moved"] == [f"gamma: since the previous run ({night:%Y-%m-%d %H:%M}): gate PASS -> FAIL"]

    def embedded(alt):  # the PNG in the page, decoded here: the size the browser must show
        data = re.search(rf'alt="{re.escape(alt)}" src="data:image/png;base64,([^"]+)"', text).group(1)
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            return image.size

    for alt in (FOREST_ALT, "gamma: trend of the last 3 runs"):
        complete, width, height, shown = seen["charts"][alt]
        assert complete and (width, height) == embedded(alt) and width == 810 and height > 200, (alt, seen["charts"])
        assert shown == width  # laid out at its own size in a 1280-pixel window

    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    with Image.open(shot) as image:
        assert image.size == (1280, 1800)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 200  # tables and charts, not a blank or error page


def test_workflow_passes_actionlint():
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert actionlint, "actionlint is installed by requirements.txt (pip install -r requirements.txt)"
    result = subprocess.run([actionlint, "-no-color", str(WORKFLOW.relative_to(REPO))], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_uploads_what_each_configuration_writes_and_reports_on_it():
    """The matrix's configurations exist and load; each job uploads its configuration's evaluate_result_dir
    and output_dir; the final job downloads them where `vsq report` reads."""
    from vsq.configuration.config import load_config

    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    matrix_job = next(job for job in jobs.values() if "matrix" in job.get("strategy", {}))
    report_job = next(job for job in jobs.values() if "needs" in job)
    entries = matrix_job["strategy"]["matrix"]["include"]
    assert {entry["config"] for entry in entries} >= {"configuration.json", "examples/variants.json"}
    upload = next(step for step in matrix_job["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
    for entry in entries:
        config = load_config(REPO / entry["config"])
        assert config.name == entry["name"]
        uploaded = upload["with"]["path"].replace("${{ matrix.results }}", entry["results"]) \
                                         .replace("${{ matrix.output }}", entry["output"]).split()
        for folder in (config.evaluate_result_dir, config.output_dir):
            assert folder.resolve().relative_to(REPO).as_posix() in uploaded, (entry, uploaded)
    steps = " ".join(str(step) for step in report_job["steps"])
    assert report_job["if"] == "always()" and "actions/download-artifact@" in steps
    assert "python -m vsq report artifacts" in steps
