"""The reviewer's view from results documents alone (no model is run): why a configuration failed (reason
lines), the forest plot of drops, the variants' intervals, the trend from history.jsonl and what moved.

tests/data/results-failing.json is a real run of the bundled example with thresholds.min_top1 0.95, the
confident rule, an imx500 section and two variants (tf_full_integer, tf_float16): FAIL, with INCONCLUSIVE
drops. tests/data/results-format1.json was written before the verdicts map.
"""

import copy
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vsq.pipeline import results
from vsq.reporting import history, trend
from vsq.rendering import charts
from vsq.rendering.drops import drops
from vsq.reporting.summary import NO_VERDICT, blocks, reasons

DATA = Path(__file__).parent / "data"
RED, GREEN, AMBER, PURPLE = (0xcf, 0x22, 0x2e), (0x1a, 0x7f, 0x37), (0xbf, 0x87, 0x00), (0x6e, 0x40, 0xc9)


@pytest.fixture
def failing(tmp_path):
    """The failing run's document, its results_file moved into tmp_path (the trend reads the history beside it)."""
    document = results.read(DATA / "results-failing.json")
    document["results_file"] = str(tmp_path / "results.json")
    return document


@pytest.fixture
def passing(failing):
    """The same run with every check passed."""
    document = copy.deepcopy(failing)
    for entry in document["checks"].values():
        entry.update(verdict="PASS", passes=True)
        entry.pop("message", None)
    document["gate"] = {"verdict": "PASS", "tests": {"passed": len(document["checks"]), "failed": 0}, "failures": []}
    return document


def colours_of(png: bytes) -> set:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}


def near(colour: tuple, png: bytes, tolerance: int = 12) -> bool:
    """Whether the chart has a pixel of about this colour (thin lines are antialiased)."""
    return any(sum(abs(a - b) for a, b in zip(colour, seen)) <= tolerance for seen in colours_of(png))


def size_of(png: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.size


# --- why: one line per check that did not pass ----------------------------------------------------------------


def test_reasons_name_each_check_that_did_not_pass_in_its_messages_words(failing):
    found = reasons("failing", failing)
    not_passed = {name: entry for name, entry in failing["checks"].items() if entry["verdict"] != "PASS"}
    assert [reason.check for reason in found] == list(not_passed)  # the verdicts map's order
    for reason in found:
        message = not_passed[reason.check]["message"]
        assert message == f"failing: {'INCONCLUSIVE: ' if reason.verdict == 'INCONCLUSIVE' else ''}{reason.text}"
        assert "\n" not in reason.line
    lines = [reason.line for reason in found]
    assert lines[0].startswith("failing: quantized_top1_drop_within_threshold INCONCLUSIVE, counts as fail "
                               "(thresholds.inconclusive): model_quantized.tflite Top-1 0.9400 is 0.00 points below "
                               "Keras 0.9400 (95 % interval -1.92 to +1.92;")
    assert ("failing: quantized_top1_above_minimum FAIL: model_quantized.tflite Top-1 0.9400 is below "
            "thresholds.min_top1 0.9500; lowest SQNR") in "\n".join(lines)
    assert lines[-1] == ("failing: variant_top1_above_minimum[tf_float16] FAIL: model_tf_float16.tflite (tf_float16) "
                         "Top-1 0.9400 is below the variant's min_top1 0.9500")


def test_a_passing_configuration_says_nothing_extra_unless_a_drop_was_inconclusive(passing):
    assert reasons("passing", passing) == []
    lenient = copy.deepcopy(passing)  # thresholds.inconclusive "pass": the gate passes, the reader is told why
    lenient["checks"]["quantized_top1_drop_within_threshold"].update(
        verdict="INCONCLUSIVE", passes=True, message="failing: INCONCLUSIVE: the drop's interval straddles it")
    [reason] = reasons("passing", lenient)
    assert reason.line == ("passing: quantized_top1_drop_within_threshold INCONCLUSIVE, counts as pass "
                           "(thresholds.inconclusive): the drop's interval straddles it")


def test_reasons_of_an_older_document_and_of_one_without_a_verdict():
    old = results.read(DATA / "results-format1.json")  # keeps only its failed checks, from its gate
    assert [reason.line.split(":")[1].strip() for reason in reasons("tiny", old)] == [
        "quantized_top1_above_minimum FAIL", "variant_top1_above_minimum[tf_float16] FAIL"]
    interrupted = {key: value for key, value in old.items() if key != "gate"}
    assert [reason.line for reason in reasons("tiny", interrupted)] == [f"tiny: {NO_VERDICT}"]


def test_a_format_1_document_renders_through_the_migration_alone():
    """Renderers read verdicts from `checks` only: a format-1 file (only its failed checks) gains, when read, the
    verdicts the reports show, from what it recorded (each drop's decision; PASS for what its gate did not name)."""
    from vsq.reporting.html import summary_table
    from vsq.reporting.summary import table, variant_lines

    raw = json.loads((DATA / "results-format1.json").read_text())
    assert "checks" not in raw and raw["models"]["tflite_quantized"]["decision"]["verdict"] == "PASS"
    old = results.read(DATA / "results-format1.json")
    assert {name: entry["verdict"] for name, entry in old["checks"].items()} == {
        "float_tflite_agrees_with_keras": "PASS", "quantized_top1_drop_within_threshold": "PASS",
        "quantized_keras_top1_drop_within_threshold": "PASS", "variant_top1_drop_within_threshold[tf_float16]": "PASS",
        "quantized_top1_above_minimum": "FAIL", "variant_top1_above_minimum[tf_float16]": "FAIL"}
    assert [(drop.key, drop.verdict) for drop in drops(old)] == [
        ("tflite", "PASS"), ("tflite_quantized", "PASS"), ("keras_quantized", "PASS"), ("tf_float16", "PASS")]
    assert re.search(r"\+0\.00 \[-9\.6, \+9\.6\]\s+PASS\s+36\s+FAIL$", table({"tiny": old}, {"tiny": "FAIL"}))
    assert re.search(r"tf_float16\s+tf_float16\s.*\s+PASS\s+[\d.]+\s+-\s+[\d.]+\s+FAIL$", "\n".join(variant_lines({"tiny": old})),
                     re.M)
    assert '<span class="vsq-verdict vsq-pass" title="rule point at 95 %">PASS</span>' in summary_table(
        {"tiny": old}, {"tiny": "FAIL"})
    # Without the migration the renderers have no verdict to show: they never fall back to `decision`.
    raw["checks"], raw["gate"] = {}, {"verdict": "FAIL"}
    assert {drop.verdict for drop in drops(raw)} == {""}


def test_the_imx500_cell_and_chart_take_their_colour_from_the_fit_check(failing):
    """Red when imx500_fits_in_memory did not pass, whatever the section's own figures say (the check decides)."""
    from vsq.rendering.drops import check_entry
    from vsq.rendering.html_parts import imx500_cell

    section, fits = failing["imx500"], failing["checks"]["imx500_fits_in_memory"]
    assert fits["verdict"] == "PASS" and "vsq-fail" not in imx500_cell(section, fits)
    assert RED not in colours_of(charts.imx500_memory({"failing": failing}))
    fits.update(verdict="FAIL", passes=False)
    assert "vsq-fail" in imx500_cell(section, check_entry(failing, "imx500_fits_in_memory"))
    assert RED in colours_of(charts.imx500_memory({"failing": failing}))
    assert "vsq-fail" in imx500_cell(section, None)  # no check recorded: not shown as a fit


def test_reasons_of_a_stranger_document_stay_one_bounded_line(failing):
    failing["checks"] = {"a": "not an entry", "b": {"verdict": "FAIL", "passes": False, "message": "x\n" * 5000},
                         "c": {"verdict": "WEIRD", "passes": False}}
    lines = [reason.line for reason in reasons("failing", failing)]
    assert len(lines) == 2 and all("\n" not in line and len(line) < 1100 for line in lines)
    assert lines[1] == "failing: c FAIL: no message recorded"


def test_terminal_says_why_after_the_table_and_shows_the_variants_intervals(failing, passing):
    [(_, lines), (_, variants)] = blocks({"failing": failing, "passing": passing}, {"failing": "FAIL",
                                                                                   "passing": "PASS"}, {})
    assert re.fullmatch(r"failing\s.*INCONCLUSIVE\s+4 %\s+200\s+FAIL", lines[2])
    assert lines[4].startswith("failing: quantized_top1_drop_within_threshold INCONCLUSIVE, counts as fail")
    assert [line.split(":")[0] for line in lines[4:11]] == ["failing"] * 7
    assert not any(line.startswith("passing: ") and "FAIL" in line for line in lines)
    # The INCONCLUSIVE reason says what the cannot-tell note would: only the passing configuration keeps its note.
    assert [line.split(":")[0] for line in lines if "cannot tell on which side" in line] == ["passing"]
    assert variants[0].split() == ["configuration", "model", "kind", "device", "size", "(KB)", "Top-1", "drop", "(pp)", "[95%",
                                   "CI]", "verdict", "agree", "worst", "err", "/", "min", "cos", "ms/img", "gate"]
    rows = {row.split()[1]: row for row in variants[2:] if row.startswith("failing ")}
    assert re.search(r"0\.9350\s+\+0\.50 \[-1\.6, \+2\.7\]\s+INCONCLUSIVE\s+0\.9950\s+-\s+[\d.]+\s+FAIL$",
                     rows["tf_full_integer_int8"])
    assert re.search(r"\+0\.00 \[-1\.9, \+1\.9\]\s+1\.0000\s+-\s+[\d.]+$", rows["model.tflite"])  # its interval from `models`


def test_terminal_and_html_variants_tables_show_the_same_parity_cells(failing):
    """The terminal's variants table has the HTML's parity columns (agreement, worst error / min cosine), in one
    format; a row without parity (an older results.json) shows an empty cell, not a made-up figure."""
    from vsq.rendering.html_parts import variants_table
    from vsq.reporting.summary import variant_lines

    row = failing["variants"]["models"]["tf_full_integer_int8"]
    row["parity"] = {"keras": {"images": 200, "top1_agreement": 0.995, "max_abs_error": {"max": 0.25, "mean": 0.01},
                               "cosine": {"min": 0.8125, "mean": 0.99}}}
    line = next(line for line in variant_lines({"failing": failing}) if " tf_full_integer_int8 " in line)
    assert re.search(r"INCONCLUSIVE\s+0\.9950\s+0\.2500 / 0\.8125\s+[\d.]+\s+FAIL$", line)
    html_text = text_of(variants_table(failing))
    assert "0.9950" in html_text and "0.2500 / 0.8125" in html_text
    row["parity"] = {"keras": {"images": 0}}  # nothing measured: no figure
    line = next(line for line in variant_lines({"failing": failing}) if " tf_full_integer_int8 " in line)
    assert re.search(r"0\.9950\s+-\s+[\d.]+\s+FAIL$", line)


# --- the HTML: why, the forest plot, the variants' intervals ---------------------------------------------------


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_html_summary_says_why_in_the_terminals_words_and_escapes_them(failing, passing):
    from vsq.reporting.html import summary_section

    failing["checks"]["quantized_top1_above_minimum"]["message"] += " <script>alert(1)</script>"
    page = summary_section({"failing": failing, "passing": passing}, {"failing": "FAIL", "passing": "PASS"}, [],
                           details=False)
    shown = [text_of(line) for line in re.findall(r'<p class="vsq-reason">(.*?)</p>', page)]
    assert shown == [reason.line for reason in reasons("failing", failing)]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<span class="vsq-verdict vsq-inconclusive">INCONCLUSIVE</span>' in page
    assert page.index('<table class="vsq-summary"') < page.index('<p class="vsq-reason">') < \
        page.index(f'alt="{charts_alt()}"')
    assert '<p class="vsq-reason">' not in summary_section({"passing": passing}, {"passing": "PASS"}, [], details=False)


def charts_alt():
    from vsq.reporting.html import FOREST_ALT

    return FOREST_ALT


def test_html_variants_table_has_the_interval_and_verdict_columns(failing):
    from vsq.rendering.html_parts import variants_table

    table = variants_table(failing)
    header = re.findall(r"<th>(.*?)</th>", table)
    assert header[:5] == ["variant", "device", "Top-1", "drop (pp) [95% CI]", "verdict"]
    row = re.search(r"<tr><td>tf_full_integer_int8</td>(.*?)</tr>", table).group(1)
    assert "<td>+0.50 [-1.6, +2.7]</td>" in row and ">INCONCLUSIVE</span>" in row and "vsq-inconclusive" in row
    assert re.search(r"<tr><td>model\.tflite</td><td></td><td>0\.9400</td><td>\+0\.00 \[-1\.9, \+1\.9\]</td><td>—</td>", table)
    assert all(len(re.findall(r"<td>", cells)) == len(header) for cells in re.findall(r"<tr>(.*?)</tr>", table)[1:])


def test_drops_take_each_verdict_from_the_verdicts_map(failing):
    rows = {drop.key: drop for drop in drops(failing)}
    assert list(rows) == ["tflite", "tflite_quantized", "keras_quantized", "tf_full_integer_int8", "tf_float16"]
    assert rows["tflite"].symmetric and rows["tflite"].limit_points == 0.5 and rows["tflite"].verdict == "PASS"
    assert rows["tf_full_integer_int8"].label == "variant tf_full_integer_int8"
    assert rows["tf_full_integer_int8"].interval_points == (-1.5567, 2.7283)
    assert (rows["tflite_quantized"].verdict, rows["tflite_quantized"].passes) == ("INCONCLUSIVE", False)
    # The map decides, not the decision copied into the model's entry.
    failing["checks"]["quantized_top1_drop_within_threshold"].update(verdict="FAIL", passes=False)
    assert next(drop for drop in drops(failing) if drop.key == "tflite_quantized").verdict == "FAIL"
    # A model of another framework under a key of its own: labelled by its key; no check judges it, so no verdict,
    # whatever the decision copied into its entry says (renderers never read `decision`).
    failing["models"]["torch_int8"] = copy.deepcopy(failing["models"]["tflite_quantized"])
    other = next(drop for drop in drops(failing) if drop.key == "torch_int8")
    assert failing["models"]["torch_int8"]["decision"]["verdict"] == "INCONCLUSIVE"
    assert (other.label, other.verdict, other.check, other.limit_points) == ("torch_int8", "", None, 1.0)


def test_forest_plot_colours_follow_the_verdicts_and_names_are_drawn_literally(failing, passing):
    png = charts.drop_forest({"failing": failing, "passing": passing})
    assert size_of(png)[0] == 810 and AMBER in colours_of(png) and GREEN in colours_of(png)
    assert RED not in colours_of(png)  # no check FAILED its drop: INCONCLUSIVE is amber, not red
    failing["checks"]["variant_top1_drop_within_threshold[tf_float16]"].update(verdict="FAIL", passes=False)
    assert RED in colours_of(charts.drop_forest({"failing": failing}))
    assert AMBER not in colours_of(charts.drop_forest({"passing": passing}))
    old = results.read(DATA / "results-format1.json")
    assert GREEN in colours_of(charts.drop_forest({"$x$ and $$ \\frac": old}))  # no mathtext, no error


# --- the trend: history.jsonl, what moved, the chart ----------------------------------------------------------


def write_history(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def older(document: dict, day: int, **top_1) -> dict:
    """The history line of an earlier night: as an older vsq wrote it (no drops, gate or baseline)."""
    line = history.entry(document)
    line.update(time=f"2026-11-{day:02d}T02:00:00+0000", run_id=f"night-{day}")
    line["top_1"] = {**line["top_1"], **top_1}
    for key in ("drops", "gate", "confidence", "baseline"):
        line.pop(key, None)
    return line


def test_history_line_keeps_the_gate_and_every_drop_with_its_interval(failing):
    line = history.entry(failing)
    assert line["gate"] == "FAIL" and line["confidence"] == 0.95 and "baseline" not in line
    assert line["drops"]["tflite_quantized"] == {"drop_points": 0.0, "interval_points": [-1.9216, 1.9216],
                                                 "threshold_points": 1.0, "verdict": "INCONCLUSIVE", "passes": False}
    assert set(line["drops"]) == {"tflite", "tflite_quantized", "keras_quantized", "tf_full_integer_int8", "tf_float16"}
    failing["baseline"] = {"accepted_on": "2026-11-20T02:00:00+0000", "accepting": False, "models": {}}
    assert history.entry(failing)["baseline"] == {"accepted_on": "2026-11-20T02:00:00+0000", "accepting": False}


def test_a_classifiers_history_line_is_byte_for_byte_what_earlier_vsq_wrote():
    """Top-1 and Top-5 per model under "top_1" and "top_5" (the figure's key, vsq.core.drop_figure.TOP_1): lines an
    earlier vsq wrote of the same documents, Keras and PyTorch."""
    data = Path(__file__).parent / "data"
    written = [history.encoded(history.entry(results.read(data / name)))
               for name in ("results-format2.json", "results-pytorch.json")]
    assert written == (data / "history-classification.jsonl").read_bytes().splitlines(keepends=True)


def test_trend_reads_old_lines_and_skips_what_is_not_a_run_of_this_configuration(failing, tmp_path):
    path = write_history(tmp_path / "history.jsonl", [
        older(failing, 27), "{torn", "[1, 2]", {"configuration": "failing", "time": "yesterday", "top_1": {}},
        {**older(failing, 28), "configuration": "other"}, {**older(failing, 28), "top_1": {"keras": "high"}},
        {**older(failing, 28), "top_1": {"keras": 7.0, "tflite_quantized": float("nan")}},
        {**older(failing, 29), "drops": {"tflite_quantized": {"interval_points": [3, -3], "verdict": "<b>"}}},
        {**history.entry(failing), "time": "2027-01-01T00:00:00+0000", "run_id": "later"}])  # after this run
    runs = trend.runs(path, failing)
    assert [run.run_id for run in runs] == ["night-27", "night-29", failing["run_id"]]
    assert runs[0].drop == 0.0 and runs[0].interval is None and runs[0].verdict == "" and runs[0].gate is None
    assert runs[1].interval is None and runs[1].verdict == ""  # a reversed interval and an unknown word: dropped
    assert runs[-1].interval == (-1.9216, 1.9216) and runs[-1].verdict == "INCONCLUSIVE" and runs[-1].gate == "FAIL"
    assert trend.runs(tmp_path / "missing.jsonl", failing)[-1].run_id == failing["run_id"]
    assert len(trend.runs(write_history(tmp_path / "many.jsonl", [older(failing, 1)] * 50), failing)) == trend.RUNS


def test_what_moved_judges_each_change_against_todays_interval(failing, tmp_path):
    same = write_history(tmp_path / "same.jsonl", [{**older(failing, 29), "gate": "FAIL"}])
    assert trend.moved("failing", failing, trend.runs(same, failing)) == (
        "failing: nothing moved since the previous run (2026-11-29 02:00): the same Top-1 for every model, the gate "
        "FAIL as then")
    # Yesterday model_quantized.tflite had 0.9000 (a 4-point drop, outside today's -1.92..+1.92) and the variant
    # tf_full_integer_int8 0.9400 (a drop of 0, inside today's -1.56..+2.73); the gate passed.
    moved = write_history(tmp_path / "moved.jsonl", [{**older(failing, 29, tflite_quantized=0.90), "gate": "PASS",
                                                      "variants": {"tf_full_integer_int8": 0.94, "tf_float16": 0.94}}])
    line = trend.moved("failing", failing, trend.runs(moved, failing))
    assert line == ("failing: since the previous run (2026-11-29 02:00): quantized TFLite 0.9000 -> 0.9400 (drop "
                    "+4.00 -> +0.00 points, the previous one BEYOND today's 95 % interval -1.92 to +1.92); variant "
                    "tf_full_integer_int8 0.9400 -> 0.9350 (drop +0.00 -> +0.50 points, the previous one within "
                    "today's 95 % interval -1.56 to +2.73); gate PASS -> FAIL")
    keras = write_history(tmp_path / "keras.jsonl", [older(failing, 29, keras=0.96)])
    assert "Keras 0.9600 -> 0.9400 (within today's 95 % interval of its Top-1 0.898 to 0.965)" in \
        trend.moved("failing", failing, trend.runs(keras, failing))
    assert trend.moved("failing", failing, trend.runs(None, failing)) is None  # a first run says nothing


def test_trend_chart_draws_the_runs_with_the_accepted_baseline(failing, tmp_path):
    assert trend.chart("failing", failing, trend.runs(None, failing)) is None  # one run is no trend
    lines = [older(failing, day, tflite_quantized=0.93 + 0.002 * day % 0.01) for day in range(20, 30)]
    lines[5]["baseline"] = {"accepted_on": lines[5]["time"], "accepting": True}
    path = write_history(tmp_path / "history.jsonl", lines)
    png = trend.chart("$failing$", failing, trend.runs(path, failing))
    assert size_of(png) == (810, 468) and near(PURPLE, png) and near(AMBER, png)


def test_html_has_the_trend_and_what_moved_from_the_history_beside_results_json(failing, tmp_path):
    from vsq.reporting.html import summary_section

    write_history(tmp_path / "history.jsonl", [older(failing, 28, tflite_quantized=0.90), older(failing, 29)])
    page = summary_section({"failing": failing}, {"failing": "FAIL"}, [])
    assert re.search(r'<p class="vsq-moved">failing: since the previous run \(2026-11-29 02:00\): ', page) is None
    assert '<p class="vsq-moved">failing: nothing moved since the previous run (2026-11-29 02:00)' in page
    assert 'alt="failing: trend of the last 3 runs"' in page
    assert page.index("<h3>failing</h3>") < page.index('alt="failing: trend of the last 3 runs"')
    # vsq report names the file beside the results.json it read; a configuration without one has no trend.
    elsewhere = summary_section({"failing": failing}, {"failing": "FAIL"}, [], history_files={"failing": None})
    assert "trend of the last" not in elsewhere and '<p class="vsq-moved">' not in elsewhere


def test_vsq_report_text_and_junit_give_the_reason_lines(failing, tmp_path):
    from vsq.reporting import report

    write_history(tmp_path / "history.jsonl", [older(failing, 29, tflite_quantized=0.90)])
    run = report.Run("failing", tmp_path / "results.json", failing)
    out = report.text([run])
    expected = [reason.line for reason in reasons("failing", failing)]
    assert "\n".join(expected) in out
    assert "failing: since the previous run (2026-11-29 02:00): quantized TFLite 0.9000 -> 0.9400" in out
    assert re.search(r"tf_full_integer_int8\s.*\+0\.50 \[-1\.6, \+2\.7\]\s+INCONCLUSIVE", out)  # the variants table
    case = ET.fromstring(report.junit_xml([run])).find("testsuite/testcase")
    assert case.find("failure").get("message") == expected[0] and case.find("failure").text == "\n".join(expected)
