"""The nightly's memory as CI keeps it (.github/workflows/vsq.yml): each night's `vsq report` merges into the
history restored from the nights before, bounded in length, and draws the trend and what moved from it; the
report also writes the baseline candidate a reviewer commits. From tests/data/results-failing.json, a real
run's document (no model is run here): night 2 is that run, night 1 the same configuration a night earlier
with model_quantized.tflite at 0.9000."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vsq.pipeline import results
from vsq.reporting import history
from vsq.sections import baseline
from vsq.sections.baseline_origin import mismatch, origin

DATA = Path(__file__).parent / "data"


def vsq(*args):
    return subprocess.run([sys.executable, "-m", "vsq", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def nights():
    """(night 1, night 2): the documents of two consecutive nights of configuration "failing"."""
    tonight = results.read(DATA / "results-failing.json")
    last_night = copy.deepcopy(tonight)
    last_night.update(created="2026-11-29T19:37:24+0000", run_id="last-night")
    last_night["models"]["tflite_quantized"]["top_1_accuracy"] = 0.90
    return last_night, tonight


def artifacts(root: Path, document: dict, beside: list[dict] = ()) -> Path:
    """A downloaded matrix artifact: artifacts/vsq-failing/evaluate/results/ with results.json and the
    history.jsonl the job left beside it (its restored nights, then its own line, as the pytest run appends)."""
    folder = root / "artifacts" / "vsq-failing" / "evaluate" / "results"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(document))
    (folder / history.HISTORY_FILE).write_bytes(b"".join(map(history.encoded, [*beside, history.entry(document)])))
    return root / "artifacts"


def trend_of(page: str) -> tuple[int, list[str]]:
    """How many runs the page's trend chart draws, and its "what moved" lines."""
    drawn = re.search(r'alt="failing: trend of the last (\d+) runs"', page)
    return int(drawn.group(1)) if drawn else 1, re.findall(r'<p class="vsq-moved">([^<]*)</p>', page)


def test_two_consecutive_nights_give_a_two_point_trend_and_a_what_moved_line(nights, tmp_path):
    """As the workflow's report job runs: night 1 starts with no history and saves vsq-report/history.jsonl;
    night 2 restores it (the matrix job's own history was not restored: the report's alone carries the past)."""
    last_night, tonight = nights
    first = vsq("report", artifacts(tmp_path / "night1", last_night), "--history", tmp_path / "history.jsonl",
                "--keep", 30, "--html", tmp_path / "night1.html")
    assert first.returncode == 1 and "history: 1 line(s) appended" in first.stdout, first.stdout + first.stderr
    assert trend_of((tmp_path / "night1.html").read_text()) == (1, [])  # a first night: no trend, nothing moved
    saved = (tmp_path / "history.jsonl").read_bytes()

    second = vsq("report", artifacts(tmp_path / "night2", tonight), "--history", tmp_path / "history.jsonl",
                 "--keep", 30, "--html", tmp_path / "night2.html")
    assert second.returncode == 1 and "history: 1 line(s) appended" in second.stdout, second.stdout + second.stderr
    runs, moved = trend_of((tmp_path / "night2.html").read_text())
    assert runs == 2
    assert moved == ["failing: since the previous run (2026-11-29 19:37): quantized TFLite 0.9000 -&gt; 0.9400 (drop "
                     "+4.00 -&gt; +0.00 points, the previous one BEYOND today&#x27;s 95 % interval -1.92 to +1.92)"]
    assert "failing: since the previous run (2026-11-29 19:37): quantized TFLite 0.9000 -> 0.9400" in second.stdout
    merged = (tmp_path / "history.jsonl").read_bytes()
    assert merged.startswith(saved)  # merged, never overwritten
    assert [line["run_id"] for line in history.read(tmp_path / "history.jsonl")] == ["last-night", tonight["run_id"]]


def test_report_history_merges_the_nights_beside_each_results_json_once(nights, tmp_path):
    """The report's history lost (a cache evicted) while the matrix job's was restored: merging brings the
    earlier night back from the artifact; a second report over the same artifacts adds nothing."""
    last_night, tonight = nights
    older = {**history.entry(last_night), "run_id": "two-nights-ago", "time": "2026-11-28T19:37:24+0000"}
    hostile = {**older, "run_id": ["not", "text"], "time": "2026-11-27T19:37:24+0000"}  # kept, as a run without id
    folder = artifacts(tmp_path, tonight, beside=[older, history.entry(last_night), "not a run", hostile])
    (tmp_path / "history.jsonl").write_bytes(history.encoded(history.entry(last_night)))  # one night known

    out = vsq("report", folder, "--history", tmp_path / "history.jsonl", "--html", tmp_path / "report.html")
    assert "history: 3 line(s) appended" in out.stdout, out.stdout + out.stderr
    assert [line["run_id"] for line in history.read(tmp_path / "history.jsonl")] == [
        "last-night", ["not", "text"], "two-nights-ago", tonight["run_id"]]
    assert trend_of((tmp_path / "report.html").read_text())[0] == 4  # drawn in time order from the merged file
    again = vsq("report", folder, "--history", tmp_path / "history.jsonl")
    assert "history: 0 line(s) appended" in again.stdout, again.stdout + again.stderr


def test_history_keeps_the_last_runs_of_each_configuration(nights, tmp_path):
    _, tonight = nights
    path = tmp_path / "history.jsonl"
    lines = [{**history.entry(tonight), "configuration": name, "run_id": f"{name}-{day}",
              "time": f"2026-11-{day:02d}T02:00:00+0000"} for day in range(1, 6) for name in ("a", "b")]
    path.write_bytes(b"".join(map(history.encoded, lines)) + b"{torn")
    out = vsq("history", path, "--keep", 2)
    assert out.returncode == 0 and "history: 7 line(s) removed" in out.stdout, out.stdout + out.stderr
    assert [line["run_id"] for line in history.read(path)] == ["a-4", "b-4", "a-5", "b-5"]
    assert vsq("history", path, "--keep", 2).stdout.startswith("history: 0 line(s) removed")
    refused = vsq("history", path, "--keep", 0)
    assert refused.returncode == 2 and "'0' is not a whole number of runs above 0" in refused.stderr
    alone = vsq("report", tmp_path, "--keep", 2)
    assert alone.returncode == 2
    assert alone.stderr == "ERROR: --keep bounds the file --history names: give --history FILE too\n"


def test_report_writes_the_baseline_candidate_of_tonights_figures(nights, tmp_path):
    _, tonight = nights
    folder = artifacts(tmp_path, tonight)
    out = vsq("report", folder, "--baseline-candidate", tmp_path / "vsq-report" / "baseline-candidate.json")
    assert f"baseline candidate: {tmp_path / 'vsq-report' / 'baseline-candidate.json'}" in out.stdout, out.stderr
    candidate = json.loads((tmp_path / "vsq-report" / "baseline-candidate.json").read_text())
    assert candidate == {"format": baseline.FORMAT, "configurations": {"failing": baseline.entry(tonight)}}
    assert candidate["configurations"]["failing"]["top_1"]["tflite_quantized"] == 0.94
    assert mismatch(candidate["configurations"]["failing"], origin(tonight)) is None
