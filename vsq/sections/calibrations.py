"""Stability across calibrations (`calibration_repeats: N`): the default recipe built N times, each build with its
own seeded calibration draw (seeds seed, seed + 1, ..., seed + N - 1), every build evaluated in the same pass on the
same decoded images; the part holds each draw's figures, the spread, and whether the draws agree on the gate.

The first draw is the default build itself (model_quantized.tflite / .onnx, its cache key unchanged); the others are
model_quantized.draw<i>.<ext> (a dot: no variant name can hold one), keyed on their own seed. Only the default
recipe is repeated: a variant's verdict does not gate the default model, and repeating every variant multiplies the
run's cost by N for each; a run that wants a variant's spread can make that variant its default recipe.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np

from vsq.core.verdicts import Check, CheckSpec, decision, within_thresholds
from vsq.sections.base import Section
from vsq.statistics.paired import compare_paired, wilson_interval


def draw_name(draw: int) -> str:
    """The recipe name of a draw (1-based); draw 1 is the default recipe's own."""
    return "quantized" if draw == 1 else f"quantized.draw{draw}"


def cost(repeats: int) -> dict:
    """What N draws cost: N builds of the default recipe (one is the default build), one decode of the evaluation
    images (one pass), N evaluations in that pass."""
    return {"builds": repeats, "decodes_of_the_evaluation_images": 1, "evaluations": repeats}


def cost_text(repeats: int) -> str:
    return f"{repeats} builds of the default recipe, one decode of the evaluation images, {repeats} evaluations"


class Calibrations(Section):
    key = "calibration_draws"

    def applies(self, pipeline) -> bool:
        return pipeline.config.calibration_repeats > 1

    def builds(self, pipeline) -> dict:
        """Draw number -> (seed, RecipeBuild) of the draws after the first, built once."""
        return pipeline.once("calibration draws", lambda: self._build_all(pipeline))

    @staticmethod
    def _build_all(pipeline) -> dict:
        from vsq.util.text import terminal

        config = pipeline.config
        repeats, builds = config.calibration_repeats, {}
        with pipeline.options.progress.visible():  # the cost, said before the work
            print(terminal(f"{pipeline.name}: calibration_repeats {repeats}: {cost_text(repeats)}"), file=sys.stderr,
                  flush=True)
        with pipeline.options.progress.steps(total=repeats - 1, desc=f"{pipeline.name}: calibration draws",
                                             unit="build") as advance:
            for draw in range(2, repeats + 1):
                seed = config.seed + draw - 1
                made = pipeline.build(replace(pipeline.default_recipe, name=draw_name(draw)), seed=seed)
                builds[draw] = (seed, made)
                advance(f"draw {draw} (seed {seed}): "
                        f"{'FAILED' if made.error else 'cached' if made.seconds is None else f'{made.seconds:.0f} s'}")
        return builds

    def targets(self, pipeline) -> list:
        return [pipeline.file_target(draw_name(draw), made.path, contained=True)
                for draw, (_, made) in self.builds(pipeline).items() if made.path]

    def build(self, pipeline) -> dict:
        return draws_part(pipeline, self.builds(pipeline))

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        part = document.get(self.key)
        return [f"{name}: {line}" for line in summary_lines(part)] if part else []

    def html(self, name: str, document: dict) -> str:
        part = document.get(self.key)
        return draws_table(part) if part else ""


def draws_part(pipeline, builds: dict) -> dict:
    """results.json's calibration_draws: each draw's figures, the spread of Top-1 and of the paired drop, the
    verdicts and whether they agree."""
    config, core, evaluations = pipeline.config, pipeline.core, pipeline.evaluations
    thresholds, quantized = config.thresholds, pipeline.role("quantized")
    float_key = pipeline.framework.models[0].key
    reference = evaluations[float_key]
    default = core["models"][quantized.key]
    rows = [_row(1, config.seed, pipeline.default_build, default["top_1_accuracy"], default["top_1_interval"],
                 default["paired"][float_key], default["decision"], config, core["num_classes"])]
    for draw, (seed, made) in builds.items():
        result = evaluations.get(draw_name(draw))
        error = made.error or pipeline.evaluation_failures.get(draw_name(draw))
        if error or result is None:
            rows.append({"draw": draw, "seed": seed, "file": str(made.path) if made.path else None,
                         "cache": made.cache, "error": error or "not evaluated", "within_threshold": None})
            continue
        paired = compare_paired(reference.correct, result.correct, thresholds.confidence).as_dict()
        interval = list(wilson_interval(int(result.correct.sum()), len(result.correct), thresholds.confidence))
        rows.append(_row(draw, seed, made, result.top1, interval, paired,
                         decision(paired, thresholds.max_top1_drop, thresholds), config, core["num_classes"]))
    judged = [row for row in rows if not row.get("error")]
    verdicts = [row["within_threshold"] for row in judged]
    return {
        "repeats": config.calibration_repeats,
        "seeds": [row["seed"] for row in rows],
        "cost": cost(config.calibration_repeats),
        "draws": rows,
        "spread": {key: spread([row[key] for row in judged]) for key in ("top_1_accuracy", "top_1_drop_points")},
        "stable": bool(judged) and len(judged) == len(rows) and len(set(verdicts)) == 1,
        "failed": [row["draw"] for row in rows if row.get("error")],
    }


def _row(draw: int, seed: int, made, top1: float, interval, paired: dict, judged: dict, config, classes: int) -> dict:
    row = {"draw": draw, "seed": seed, "file": str(made.path), "cache": made.cache,
           "build_seconds": None if made.seconds is None else round(made.seconds, 2),
           "top_1_accuracy": top1, "top_1_interval": list(interval), "top_1_drop_points": paired["drop_points"],
           "drop_interval_points": list(paired["interval_points"]), "verdict": judged["verdict"], "decision": judged}
    row["within_threshold"] = within_thresholds(row, config.thresholds.min_top1, classes)
    return row


def spread(values: list[float]) -> dict:
    """min, max and the sample standard deviation (ddof 1; 0 for one value) of the draws' figures."""
    if not values:
        return {"min": None, "max": None, "std": None}
    data = np.asarray(values, dtype=float)
    return {"min": float(data.min()), "max": float(data.max()),
            "std": float(data.std(ddof=1)) if len(data) > 1 else 0.0}


def gate_word(row: dict) -> str:
    return "ERROR" if row.get("error") else "PASS" if row["within_threshold"] else "FAIL"


def summary_lines(part: dict) -> list[str]:
    """The spread beside the figure: Top-1 and the drop of the first draw, then min..max and sd over the draws."""
    first, top1, drop = part["draws"][0], part["spread"]["top_1_accuracy"], part["spread"]["top_1_drop_points"]
    lines = [f"calibration draws ({cost_text(part['repeats'])}), seeds {', '.join(map(str, part['seeds']))}"]
    if top1["min"] is not None and not first.get("error"):
        lines.append(f"Top-1 {first['top_1_accuracy']:.4f} (draws {top1['min']:.4f} to {top1['max']:.4f}, sd "
                     f"{top1['std']:.4f}); drop {first['top_1_drop_points']:+.2f} points (draws {drop['min']:+.2f} to "
                     f"{drop['max']:+.2f}, sd {drop['std']:.2f})")
    word = "stable" if part["stable"] else "NOT stable"
    lines.append(f"gate per draw: {', '.join(gate_word(row) for row in part['draws'])}: {word} across calibrations")
    return lines


def draws_table(part: dict) -> str:
    """The spread beside the figure (the summary line), then a row per draw: seed, Top-1 with its interval, the
    drop with its paired interval, the decision rule's word and the gate."""
    from html import escape

    from vsq.rendering.html_parts import top1_cell, verdict_cell

    rows = []
    for row in part["draws"]:
        if row.get("error"):
            cells = (str(row["draw"]), str(row["seed"]), "—", "—", "—", "ERROR: " + escape(str(row["error"])[:200]))
        else:
            low, high = row["drop_interval_points"]
            cells = (str(row["draw"]), str(row["seed"]), top1_cell(row),
                     f"{row['top_1_drop_points']:+.2f} [{low:+.1f}, {high:+.1f}]", verdict_cell(row["decision"]),
                     gate_word(row))
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in ("draw", "seed", "Top-1", "drop (pp)", "verdict", "gate"))
    notes = "".join(f'<p class="vsq-note">{escape(line)}</p>' for line in summary_lines(part))
    return f'{notes}<table class="vsq-variants"><tr>{head}</tr>{"".join(rows)}</table>'


def verdict_is_stable_across_calibrations(pipeline, item=None) -> Check:
    part = pipeline.part(CALIBRATIONS.key)
    figures = {"repeats": part["repeats"], "seeds": ",".join(map(str, part["seeds"])),
               "gate_per_draw": ",".join(gate_word(row) for row in part["draws"]),
               **{f"top_1_{name}": value for name, value in part["spread"]["top_1_accuracy"].items()},
               **{f"drop_points_{name}": value for name, value in part["spread"]["top_1_drop_points"].items()}}
    if part["failed"]:
        errors = "; ".join(f"draw {row['draw']} (seed {row['seed']}): {' '.join(str(row['error']).split())}"
                           for row in part["draws"] if row.get("error"))
        return Check(False, f"{pipeline.name}: a calibration draw could not be built or evaluated: {errors}", figures)
    by_draw = ", ".join(f"seed {row['seed']}: {gate_word(row)} (Top-1 {row['top_1_accuracy']:.4f}, drop "
                        f"{row['top_1_drop_points']:+.2f})" for row in part["draws"])
    return Check(part["stable"], f"{pipeline.name}: the default recipe's gate depends on the calibration draw: "
                 f"{by_draw}; thresholds.max_top1_drop is {pipeline.config.thresholds.max_top1_drop} points. Calibrate "
                 "on more images (iteration_count, batch_size), or choose a recipe whose verdict holds on every draw",
                 figures)


CALIBRATIONS = Calibrations()
CALIBRATIONS.checks = (
    CheckSpec("verdict_is_stable_across_calibrations", verdict_is_stable_across_calibrations, whole_run=True,
              applies=lambda pipeline: pipeline.config.calibration_repeats > 1),
)
