"""The search section (a configuration's `search`): the recipe with the smallest file that passes the configuration's
thresholds under its decision rule, among the candidates written.

The candidates are tried in order of their expected file size (the weight bits their kind stores: mixed precision's
fraction of 8, 8 for the INT8 kinds, 16 for float16, 32 for float), the cheaper build first among equals (no
calibration, then MCT PTQ, mixed precision, GPTQ), then as listed; the first that passes is recommended, since a later
one is expected to be larger. The estimate is an estimate: the table records every tried file's real size. Each
candidate is built through the cache (vsq.pipeline.builds) and evaluated on the same images (its own pass, also
cached) before the next is tried; at most search.max_candidates are, and the output says when the budget stopped it.
An INCONCLUSIVE candidate is not a pass: its row says how many images would decide it.
"""

from __future__ import annotations

import json
import time

from vsq.core.check_names import SEARCH_DROP_CHECK, SEARCH_FLOOR_CHECK, SEARCH_FOUND_CHECK
from vsq.core.verdicts import (Check, CheckSpec, decision, drop_check, fits, floor_check,
                               unless_float_near_chance, within_thresholds)
from vsq.sections.base import Section
from vsq.statistics.paired import compare_paired, wilson_interval

# Weight bits a kind stores (its expected file size); mixed precision: its fraction of 8.
FLOAT_BITS = {"tf_float16": 16, "onnxruntime_float": 32, "openvino_float": 32}
# Build cost among equal sizes: no calibration first, then MCT PTQ, mixed precision (a search of its own), GPTQ.
BUILD_RANK = {"mct_ptq": 1, "mct_mixed_precision": 2, "mct_gptq": 3}
OBJECTIVES = {
    "smallest_file": "smallest file that passes the configuration's thresholds under its decision rule",
    # The converter's figure is known only after a conversion, and weight bits are a weak proxy for it (activations
    # take the sensor's memory too): this objective tries every candidate within the budgets, not the first only.
    "least_imx500_memory": "least IMX500 memory (the converter's memory usage) among the candidates that pass the "
                           "configuration's thresholds under its decision rule and fit the sensor; every candidate "
                           "within the budgets is tried, in the same order",
}


def expected_bits(candidate) -> float:
    if candidate.kind == "mct_mixed_precision":
        return 8 * (0.5 if "weights_memory" in candidate.options else candidate.weights_memory_fraction)
    return FLOAT_BITS.get(candidate.kind, candidate.options.get("weights_n_bits", 8))  # MCT's derived platform


def order(candidates) -> list:
    """The candidates in the order they are tried."""
    from vsq.pipeline.artifacts import UNCALIBRATED_KINDS

    def rank(item):
        i, candidate = item
        cost = 0 if candidate.kind in UNCALIBRATED_KINDS else BUILD_RANK.get(candidate.kind, 1)
        return expected_bits(candidate), cost, i

    return [candidate for _, candidate in sorted(enumerate(candidates), key=rank)]


class Search(Section):
    key = "search"

    def applies(self, pipeline) -> bool:
        return pipeline.config.search is not None

    def build(self, pipeline) -> dict:
        return pipeline.once("search", lambda: run_search(pipeline))

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        return self.part_lines(name, document, summary_lines, "search: ")

    def html(self, name: str, document: dict) -> str:
        return self.part_html(document, search_table)


def run_search(pipeline) -> dict:
    """Build and evaluate the candidates in order until one passes or a budget is spent: max_candidates, and
    max_minutes checked before each candidate (a candidate started is finished; the first is always tried)."""
    settings, config = pipeline.config.search, pipeline.config
    written = {candidate.name: item for candidate, item in zip(settings.candidates, settings.written)}
    ordered = order(settings.candidates)
    tried, stopped_by, began = [], None, time.perf_counter()
    with pipeline.options.progress.steps(total=min(len(ordered), settings.max_candidates),
                                         desc=f"{pipeline.name}: search", unit="candidate") as advance:
        for candidate in ordered:
            stopped_by = _budget_spent(settings, len(tried), time.perf_counter() - began)
            if stopped_by:
                break
            started = time.perf_counter()
            row = _try(pipeline, candidate)
            row["seconds"] = round(time.perf_counter() - started, 2)
            tried.append(row)
            advance(f"{candidate.name}: {row['verdict']}")
            if row["passes"] and settings.objective == "smallest_file":
                break
    recommended = _best(tried, settings.objective)
    untried = [candidate.name for candidate in ordered[len(tried):]]
    return {
        "objective": OBJECTIVES[settings.objective], "objective_key": settings.objective,
        "imx500_constraint": config.imx500 is not None, "order": [candidate.name for candidate in ordered],
        "max_candidates": settings.max_candidates, "max_minutes": settings.max_minutes, "tried": tried,
        "recommended": recommended, "fragment": json.dumps(written[recommended]) if recommended else None,
        "budget_reached": recommended is None and stopped_by is not None, "stopped_by": stopped_by, "untried": untried,
        "minutes": round((time.perf_counter() - began) / 60, 3),
        # measured: passes over the evaluation images that decoded them, this run (the search reuses the first's)
        "decodes_of_the_evaluation_images": pipeline.decoded_images.decodes,
        "thresholds": {"max_top1_drop": config.thresholds.max_top1_drop, "min_top1": config.thresholds.min_top1,
                       "decision_rule": config.thresholds.decision_rule},
    }


def _best(tried: list, objective: str) -> str | None:
    """The recommended candidate's name: the first that passed, or with least_imx500_memory the passing one with the
    least memory usage (the first tried among equals)."""
    passing = [row for row in tried if row["passes"]]
    if not passing:
        return None
    if objective == "least_imx500_memory":
        return min(passing, key=lambda row: row["imx500"]["memory_usage_bytes"])["name"]
    return passing[0]["name"]


def _budget_spent(settings, tried: int, seconds: float) -> str | None:
    """Which budget stops the search before its next candidate: "max_candidates", "max_minutes" or None."""
    if tried >= settings.max_candidates:
        return "max_candidates"
    if tried and settings.max_minutes is not None and seconds >= settings.max_minutes * 60:
        return "max_minutes"
    return None


def budget_text(part: dict) -> str:
    """What stopped the search, for the terminal, the HTML and the check's message."""
    if part.get("stopped_by") == "max_minutes":
        return (f"the budget (search.max_minutes {part['max_minutes']:g}) stopped it after {part['minutes'] * 60:.0f} s "
                f"before {', '.join(part['untried'])}")
    return f"the budget (search.max_candidates {part['max_candidates']}) stopped it before {', '.join(part['untried'])}"


def _try(pipeline, candidate) -> dict:
    """One candidate's row: built, evaluated in a pass of its own (both through the cache), judged."""
    config = pipeline.config
    thresholds, float_key = config.thresholds, pipeline.framework.models[0].key
    made = pipeline.build(candidate)
    row = {"name": candidate.name, "kind": candidate.kind, "expected_weight_bits": expected_bits(candidate),
           "cache": made.cache, "passes": False}
    if made.error:
        return {**row, "verdict": "ERROR", "error": made.error}
    evaluations = pipeline._evaluate([pipeline.file_target(candidate.name, made.path, contained=True)])
    if candidate.name not in evaluations:
        return {**row, "verdict": "ERROR", "error": pipeline.evaluation_failures.get(candidate.name, "not evaluated")}
    from vsq.runtimes.kinds import model_files

    result, reference = evaluations[candidate.name], pipeline.evaluations[float_key]
    paired = compare_paired(reference.correct, result.correct, thresholds.confidence).as_dict()
    judged = decision(paired, candidate.max_top1_drop, thresholds)
    row.update(paired={float_key: paired}, min_top1=candidate.min_top1, file=str(made.path), file_size_bytes=sum(path.stat().st_size for path in model_files(made.path)),
               top_1_accuracy=result.top1,
               top_1_interval=list(wilson_interval(int(result.correct.sum()), len(result.correct),
                                                   thresholds.confidence)),
               top_1_drop_points=paired["drop_points"], drop_interval_points=list(paired["interval_points"]),
               decision=judged, verdict=judged["verdict"])
    row["within_threshold"] = within_thresholds(row, candidate.min_top1, pipeline.core["num_classes"])
    row["passes"] = row["within_threshold"] and judged["verdict"] != "INCONCLUSIVE"  # INCONCLUSIVE is not a pass
    if config.imx500 is not None:  # the sensor is a constraint too: converted only once the accuracy passes
        row["imx500"] = _imx500(pipeline, candidate, made) if row["passes"] else None
        row["passes"] = row["passes"] and bool(row["imx500"]) and fits(row["imx500"])
    if judged["verdict"] == "INCONCLUSIVE":
        row["images_to_resolve"] = judged["images_to_resolve"]
    return row


def _imx500(pipeline, candidate, made) -> dict:
    """The converter's figures on the candidate's MCT export (cached by the file's digest), or why there are none."""
    from vsq.configuration.recipes import MCT_KINDS
    from vsq.sections.imx500 import convert

    limit = pipeline.config.imx500.max_memory_utilization
    if candidate.kind not in MCT_KINDS:
        return {"fits": False, "max_memory_utilization": limit,
                "error": f"the IMX500 converter reads MCT's exports; {candidate.kind} makes none"}
    conversion = convert(pipeline, made, candidate.name)
    part = conversion.section(limit)
    return {key: part.get(key) for key in ("fits", "memory_usage_bytes", "memory_available_bytes",
                                           "utilization_percent", "max_memory_utilization", "cache", "error")}


def imx500_text(row: dict) -> str:
    """', IMX500 1.23 MB (15 %)', or what kept the candidate from the sensor; '' without the constraint."""
    figures = row.get("imx500")
    if not figures:
        return ""
    if figures.get("memory_usage_bytes") is None:
        return f", IMX500: {' '.join(str(figures.get('error') or 'no memory report').split())}"
    word = "fits" if fits(figures) else f"does NOT fit (max_memory_utilization {figures['max_memory_utilization']:g} %)"
    return f", IMX500 {figures['memory_usage_bytes'] / 2**20:.2f} MB ({figures['utilization_percent']:g} %) {word}"


def _row_text(row: dict) -> str:
    if row["verdict"] == "ERROR":
        return f"{row['name']} ({row['kind']}): could not be built or evaluated: {' '.join(row['error'].split())}"
    low, high = row["drop_interval_points"]
    more = (f", {row['images_to_resolve']:,} images would decide it" if row.get("images_to_resolve") else
            ", the data cannot decide it" if row["verdict"] == "INCONCLUSIVE" else "")
    return (f"{row['name']} ({row['kind']}): {row['file_size_bytes'] / 1024:.1f} KB, Top-1 {row['top_1_accuracy']:.4f}, "
            f"drop {row['top_1_drop_points']:+.2f} [{low:+.1f}, {high:+.1f}], {row['verdict']}{imx500_text(row)}"
            f"{'' if row['within_threshold'] or row['verdict'] != 'PASS' else ' (below min_top1)'}{more}, {row['seconds']:.0f} s")


def summary_lines(part: dict) -> list[str]:
    lines = [f"tried {_row_text(row)}" for row in part["tried"]]
    if part["recommended"]:
        lines.append(f"recommended {part['recommended']}: paste into \"variants\": {part['fragment']}")
    else:
        lines.append("no candidate passed" + (f"; {budget_text(part)}" if part["budget_reached"] else ""))
    return lines


def search_table(part: dict) -> str:
    from html import escape

    from vsq.rendering.html_parts import top1_cell, verdict_cell

    sensor = part.get("imx500_constraint")
    rows = []
    for row in part["tried"]:
        if row["verdict"] == "ERROR":
            cells = (escape(row["name"]), escape(row["kind"]), "—", "—", "—", "ERROR: " + escape(row["error"][:200]), "")
        else:
            low, high = row["drop_interval_points"]
            cells = (escape(row["name"]), escape(row["kind"]), f"{row['file_size_bytes'] / 1024:,.1f} KiB",
                     top1_cell(row), f"{row['top_1_drop_points']:+.2f} [{low:+.1f}, {high:+.1f}]",
                     verdict_cell(row["decision"]), f"{row['seconds']:.0f}")
        if sensor:  # the sensor's column: its memory and fit, or why it was not converted
            said = imx500_text(row).removeprefix(", ") or ("—" if row["verdict"] == "ERROR" else "not converted: "
                                                           "the accuracy failed")
            cells = (*cells[:6], escape(said), cells[6])
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    names = ("candidate", "kind", "size", "Top-1", "drop (pp)", "verdict", *(("IMX500",) if sensor else ()), "s")
    head = "".join(f"<th>{h}</th>" for h in names)
    notes = "".join(f'<p class="vsq-note">{escape(line)}</p>' for line in summary_lines(part)[len(part["tried"]):])
    fragment = f"<pre>{escape(part['fragment'])}</pre>" if part["fragment"] else ""
    return f'<table class="vsq-variants"><tr>{head}</tr>{"".join(rows)}</table>{notes}{fragment}'


def search_found_a_passing_recipe(pipeline, item=None) -> Check:
    part = pipeline.part(SEARCH.key)
    figures = {"tried": len(part["tried"]), "recommended": part["recommended"] or "",
               "budget_reached": part["budget_reached"], "stopped_by": part["stopped_by"] or ""}
    if part["recommended"]:
        return Check(True, "", figures)
    return Check(False, f"{pipeline.name}: no search candidate passed: " + "; ".join(
        _row_text(row) for row in part["tried"]) + (
        f"; {budget_text(part)}: raise it" if part["budget_reached"] else
        "; add candidates (more bits, no clipping, layers kept in float)"), figures)


def judged_candidate(part: dict) -> tuple[dict | None, str]:
    """The row the recommended recipe's checks judge, and how to name it: the recommended candidate, or when none
    passed the evaluated candidate with the highest Top-1 (the nearest; first tried among equals)."""
    rows = [row for row in part["tried"] if row["verdict"] != "ERROR"]
    if part["recommended"]:
        return next(row for row in rows if row["name"] == part["recommended"]), "the recommended recipe"
    if not rows:
        return None, ""
    return max(rows, key=lambda row: row["top_1_accuracy"]), "no candidate passed; the nearest"


def _recommended(pipeline, judge) -> Check:
    row, said = judged_candidate(pipeline.part(SEARCH.key))
    if row is None:
        return Check(False, f"{pipeline.name}: no search candidate could be built and evaluated, so there is no "
                     "recommended recipe to judge (search_found_a_passing_recipe says why)", {"candidate": ""})
    check = judge(row, f"{said} {row['name']} ({row['kind']})")
    return Check(check.ok, check.message, {"candidate": row["name"], **check.figures}, check.verdict)


def search_recommended_top1_drop_within_threshold(pipeline, item=None) -> Check:
    """The recommended recipe's drop against the float model within its max_top1_drop, under the decision rule."""
    float_model = pipeline.framework.models[0]

    def judge(row, described):
        check = drop_check(pipeline.name, described, row, pipeline.core[float_model.spec_key],
                           "the candidate's max_top1_drop", float_model)
        return unless_float_near_chance(pipeline.name, described, check, pipeline.core, pipeline.config.thresholds)

    return _recommended(pipeline, judge)


def search_recommended_top1_above_minimum(pipeline, item=None) -> Check:
    """The recommended recipe's Top-1 at least its min_top1 (better than chance when none is set)."""
    def judge(row, described):
        check = floor_check(pipeline.name, described, row["top_1_accuracy"], row["min_top1"],
                            pipeline.core["num_classes"], "the candidate's min_top1")
        return unless_float_near_chance(pipeline.name, None, check, pipeline.core, pipeline.config.thresholds)

    return _recommended(pipeline, judge)


SEARCH = Search()
SEARCH.checks = (
    CheckSpec(SEARCH_FOUND_CHECK, search_found_a_passing_recipe, whole_run=True),
    CheckSpec(SEARCH_DROP_CHECK, search_recommended_top1_drop_within_threshold, whole_run=True),
    CheckSpec(SEARCH_FLOOR_CHECK, search_recommended_top1_above_minimum, whole_run=True),
)
