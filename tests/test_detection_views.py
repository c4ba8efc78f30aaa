"""What a reviewer sees of a detector: its per-class AP with the drop (terminal table, HTML table, chart), and the
forest plot, history and trend reading its mAP@[.5:.95] drop (vsq.core.drop_figure), from a results.json alone."""

import copy
import io

import pytest
from PIL import Image

from vsq.core.check_names import MAP_DROP_CHECK, QUANTIZED_DROP_CHECK
from vsq.core.drop_figure import MAP, TOP_1
from vsq.rendering import charts
from vsq.rendering.drops import drops, figure_words
from vsq.rendering.per_class_ap import html_table, rows
from vsq.reporting import trend
from vsq.reporting.history import entry, line_figure
from vsq.reporting.summary import blocks, per_class_lines
from vsq.tasks import TASKS, figure_of


def paired(reference: float, candidate: float, low: float, high: float) -> dict:
    drop = {"reference": reference, "candidate": candidate, "drop_points": (reference - candidate) * 100,
            "interval_points": [low, high], "confidence": 0.95, "resamples": 1000, "seed": 0}
    return {"map_50_95": {"metric": "map_50_95", **drop},
            "map_50": {"metric": "map_50", **drop, "drop_points": 0.5, "interval_points": [0.1, 0.9]}}


def model(map_50_95: float, per_class: dict, against: tuple | None = None) -> dict:
    found = {"map_50_95": map_50_95, "map_50": map_50_95 + 0.2, "recall": 0.7, "per_class_ap": per_class}
    return {**found, "paired": {"keras": paired(0.53, map_50_95, *against)}} if against else found


@pytest.fixture
def detector() -> dict:
    """A detector's results.json as a run writes it (the parts the reports read)."""
    return {
        "task": "detection", "created": "2026-12-06T10:00:00+00:00", "run_id": "b", "num_images": 200,
        "categories": {"1": "circle", "2": "square", "3": "<script>x</script>", "4": "$unbalanced"},
        "reference_models": {"float": "keras", "float_export": "tflite", "quantized": "tflite_quantized",
                             "fake_quant": "keras_quantized"},
        "models": {
            "keras": model(0.53, {"1": 0.70, "2": 0.40, "3": 0.60, "4": None}),
            "tflite": model(0.53, {"1": 0.70, "2": 0.40, "3": 0.60, "4": None}, (0.0, 0.0)),
            "tflite_quantized": model(0.51, {"1": 0.71, "2": 0.37, "3": 0.55, "4": None}, (1.1, 2.9)),
            "keras_quantized": model(0.52, {"1": 0.70, "2": 0.39, "3": 0.58, "4": None}, (0.2, 1.8)),
        },
        "configuration": {"name": "det", "thresholds": {"max_top1_drop": 1.0, "confidence": 0.95},
                          "detection": {"max_map_drop": 1.5}},
        "checks": {MAP_DROP_CHECK: {"verdict": "FAIL", "passes": False, "message": "det: mAP dropped"}},
        "gate": {"verdict": "FAIL", "failures": []},
        "environment": {"vsq": "1", "tensorflow": "2.15"}, "results_file": "/nonexistent/results.json",
    }


def test_per_class_rows_are_the_float_minus_the_quantized_ap_largest_drop_first(detector):
    found = rows(detector)
    assert [row.name for row in found] == ["<script>x</script>", "square", "circle", "$unbalanced"]
    assert found[0].drop_points == pytest.approx(5.0) and found[2].drop_points == pytest.approx(-1.0)
    assert found[-1].drop_points is None  # a class with no object: no AP, no drop


def test_the_terminal_shows_the_per_class_table_and_where_the_rest_is(detector):
    lines = per_class_lines({"det": detector}, top=2)
    assert lines[0].startswith("det: per-class AP@[.5:.95], largest drop first")
    assert lines[1].split() == ["class", "AP", "Keras", "AP", "quantized", "TFLite", "drop", "(pp)"]
    assert lines[3].split()[-3:] == ["0.6000", "0.5500", "+5.00"] and lines[4].split()[-1] == "+3.00"
    assert lines[-1] == "  2 more classes: the HTML report (vsq report --html) and results.json"
    printed = [line for _, block in blocks({"det": detector}, {"det": "FAIL"}, {}) for line in block]
    assert any(line.startswith("det: per-class AP@[.5:.95]") for line in printed)
    assert not any(line.startswith("det: per-class") for line in per_class_lines({"det": {"task": "detection"}}))


def test_the_html_table_escapes_category_names_and_the_chart_draws_each_drop(detector):
    page = html_table("<b>cfg</b>", detector)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page and "&lt;b&gt;cfg" in page
    assert "<td>+5.00</td>" in page and "<td>—</td>" in page
    png = charts.per_class_ap_drops(detector)  # "$unbalanced" would fail matplotlib's mathtext unescaped
    assert Image.open(io.BytesIO(png)).size[1] > 100
    assert charts.per_class_ap_drops({**detector, "models": {"keras": {}}}) is None


def test_a_crafted_per_class_ap_is_shown_without_its_bad_figures(detector):
    crafted = copy.deepcopy(detector)
    crafted["categories"] = {"1": ["list"], "2": True}
    crafted["models"]["tflite_quantized"]["per_class_ap"] = {"1": "x", "2": float("nan"), "3": 7.0, "9": 0.5}
    found = {row.name: row for row in rows(crafted)}
    assert set(found) == {"1", "2", "3", "4", "9"} and all(row.drop_points is None for row in found.values())
    assert charts.per_class_ap_drops(crafted) is None


def test_each_tasks_drop_figure_is_judged_by_one_of_its_own_checks():
    for task in TASKS.values():
        assert task.drop_figure.check in {check.name for check in task.checks}
    assert figure_of({"task": "detection"}) is MAP and figure_of({}) is TOP_1 and figure_of({"task": 3}) is TOP_1


def test_the_forest_plot_reads_a_detectors_map_drop_its_interval_threshold_and_check(detector):
    by_key = {drop.key: drop for drop in drops(detector)}
    quantized = by_key["tflite_quantized"]
    assert quantized.drop_points == pytest.approx(2.0) and quantized.interval_points == (1.1, 2.9)
    assert (quantized.limit_points, quantized.check, quantized.verdict) == (1.5, MAP_DROP_CHECK, "FAIL")
    assert by_key["keras_quantized"].check is None and by_key["keras_quantized"].drop_points == pytest.approx(1.0)
    assert not by_key["tflite"].symmetric and by_key["tflite"].limit_points is None
    assert figure_words({"det": detector}) == "mAP@[.5:.95]"
    assert figure_words({"det": detector, "cls": {}}) == "mAP@[.5:.95] / Top-1"
    assert Image.open(io.BytesIO(charts.drop_forest({"det": detector}))).size[0] > 100


def test_a_classifiers_drop_is_still_its_top1_paired_entry():
    document = {"models": {"keras": {}, "tflite_quantized": {"paired": {"keras": {
        "drop_points": 0.4, "interval_points": [0.1, 0.7]}}}}, "configuration": {"thresholds": {"max_top1_drop": 1.0}},
        "checks": {QUANTIZED_DROP_CHECK: {"verdict": "PASS", "passes": True}}}
    [quantized] = drops(document)
    assert (quantized.drop_points, quantized.interval_points, quantized.limit_points, quantized.verdict) == (
        0.4, (0.1, 0.7), 1.0, "PASS")


def test_a_detectors_history_line_gives_its_trend_in_map(detector):
    line = entry(detector)
    assert line["task"] == "detection" and line["drops"]["tflite_quantized"]["threshold_points"] == 1.5
    assert line["map_50_95"] == {"keras": 0.53, "tflite": 0.53, "tflite_quantized": 0.51, "keras_quantized": 0.52}
    assert "top_1" not in line and "top_5" not in line  # a detector has no Top-1: no map of nulls
    today = trend.parse(line)
    assert today.top_1["tflite_quantized"] == 0.51 and today.drop == pytest.approx(2.0) and today.verdict == "FAIL"
    older = {**line, "time": "2026-12-05T10:00:00+00:00", "run_id": "a",
             "map_50_95": {**line["map_50_95"], "tflite_quantized": 0.525}}
    del older["task"]  # a line of the vsq before tasks were recorded: its mAP figures say what it is
    older["top_1"] = dict.fromkeys(line["map_50_95"])  # that vsq also wrote a Top-1 of nulls
    assert line_figure(older) is MAP and line_figure({"top_1": {"keras": 0.9}}) is TOP_1 and line_figure({}) is TOP_1
    runs = [trend.parse(older), today]
    assert trend.moved("det", detector, runs).startswith("det: since the previous run (2026-12-05 10:00): "
                                                         "quantized TFLite 0.5250 -> 0.5100")
    assert Image.open(io.BytesIO(trend.chart("det", detector, runs))).size[0] > 100


def test_each_tasks_meaningful_check_is_one_of_its_own_checks():
    for task in TASKS.values():
        assert task.drop_figure.meaningful_check in {check.name for check in task.checks}


def test_the_tables_read_the_figure_heading_and_meaningful_check_of_the_documents_task(detector):
    from vsq.core.check_names import DROPS_MEANINGFUL_CHECK, FLOAT_MAP_CHANCE_CHECK
    from vsq.reporting.html import summary_section
    from vsq.reporting.summary import drop_verdict, table_rows

    [title, lines] = blocks({"det": detector}, {"det": "FAIL"}, {})[0]
    assert title == "vsq: mAP@[.5:.95] (detection)" and lines[2].split()[1:5] == ["0.5300", "0.5300", "0.5100", "0.5200"]
    near_chance = {**detector, "checks": {**detector["checks"], FLOAT_MAP_CHANCE_CHECK: {"verdict": "FAIL"},
                                          DROPS_MEANINGFUL_CHECK: {"verdict": "PASS"}}}
    assert drop_verdict(detector) == "FAIL" and drop_verdict(near_chance) == "MEANINGLESS"
    # a detector's own check says MEANINGLESS, not a classifier's: drops_are_meaningful FAIL means nothing here
    assert drop_verdict({**detector, "checks": {**detector["checks"], DROPS_MEANINGFUL_CHECK: {"verdict": "FAIL"}}}) \
        == "FAIL"
    assert table_rows({"det": near_chance}, {"det": "FAIL"})[1][6] == "MEANINGLESS"
    page = summary_section({"det": detector}, {"det": "FAIL"}, [], details=True)
    assert "<h2>vsq: mAP@[.5:.95]</h2>" in page and "per-class AP drop" in page and "confusion matrix" not in page
    assert "<h2>vsq: Top-1 accuracy</h2>" in summary_section({}, {}, [], details=False)
