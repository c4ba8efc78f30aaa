"""Stability across calibrations (`calibration_repeats: N`): the default recipe built N times, each build with its
own seeded calibration draw (seeds seed, seed + 1, ..., seed + N - 1), every build evaluated in the same pass on the
same decoded images; the part holds each draw's figures, the spread, and whether the draws agree on the gate.

The first draw is the default build itself (model_quantized.tflite / .onnx, its cache key unchanged); the others are
model_quantized.draw<i>.<ext> (a dot: no variant name can hold one), keyed on their own seed. Only the default
recipe is repeated: a variant's verdict does not gate the default model, and repeating every variant multiplies the
run's cost by N for each; a run that wants a variant's spread can make that variant its default recipe.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vsq.core.check_names import STABILITY_CHECK
from vsq.core.verdicts import Check, CheckSpec, decision, within_thresholds
from vsq.sections.base import Section
from vsq.statistics import metrics
from vsq.statistics.paired import compare_paired, wilson_interval


def draw_name(recipe: str, draw: int) -> str:
    """The recipe name of a recipe's draw (1-based); draw 1 is the recipe's own build."""
    return recipe if draw == 1 else f"{recipe}.draw{draw}"


def repeated(pipeline) -> list:
    """The recipes built once per draw: the default recipe, and when asked the variants that read calibration data
    (the others would give the same file on every draw)."""
    from vsq.pipeline.artifacts import UNCALIBRATED_KINDS

    repeats = pipeline.config.calibration_repeats
    variants = [variant for variant in pipeline.config.variants if variant.kind not in UNCALIBRATED_KINDS]
    return [pipeline.default_recipe, *(variants if repeats.variants else [])]


def cost(repeats: int, recipes: int = 1) -> dict:
    """What N draws cost: N builds of each repeated recipe (one is its own build), one decode of the evaluation
    images (one pass), N evaluations of each."""
    return {"builds": repeats * recipes, "decodes_of_the_evaluation_images": 1, "evaluations": repeats * recipes}


def cost_text(repeats: int, recipes: int = 1) -> str:
    if recipes == 1:
        return f"{repeats} builds of the default recipe, one decode of the evaluation images, {repeats} evaluations"
    return (f"{repeats} builds of each of {recipes} recipes ({repeats * recipes} builds), one decode of the evaluation "
            f"images, {repeats * recipes} evaluations")


class Calibrations(Section):
    key = "calibration_draws"

    def applies(self, pipeline) -> bool:
        return pipeline.config.calibration_repeats.count > 1

    def builds(self, pipeline) -> dict:
        """Recipe name -> {draw: (seed, RecipeBuild)} of the draws after the first, built once."""
        return pipeline.once("calibration draws", lambda: self._build_all(pipeline))

    def cost(self, pipeline) -> str:
        """Said by the pipeline before its first build."""
        count = pipeline.config.calibration_repeats.count
        return f"calibration_repeats {count}: {cost_text(count, len(repeated(pipeline)))}"

    @staticmethod
    def _build_all(pipeline) -> dict:
        config, recipes = pipeline.config, repeated(pipeline)
        count, builds = config.calibration_repeats.count, {}
        with pipeline.options.progress.steps(total=(count - 1) * len(recipes), desc=f"{pipeline.name}: calibration "
                                             "draws", unit="build") as advance:
            for recipe in recipes:
                builds[recipe.name] = {}
                for draw in range(2, count + 1):
                    seed = config.seed + draw - 1
                    made = pipeline.build(replace(recipe, name=draw_name(recipe.name, draw)), seed=seed)
                    builds[recipe.name][draw] = (seed, made)
                    took = "FAILED" if made.error else "cached" if made.seconds is None else f"{made.seconds:.0f} s"
                    advance(f"{recipe.name} draw {draw} (seed {seed}): {took}")
        return builds

    def targets(self, pipeline) -> list:
        return [pipeline.file_target(draw_name(recipe, draw), made.path, contained=True, runtime=made.recipe.runtime)
                for recipe, draws in self.builds(pipeline).items() for draw, (_, made) in draws.items() if made.path]

    def build(self, pipeline) -> dict:
        return draws_part(pipeline, self.builds(pipeline))

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        return self.part_lines(name, document, summary_lines)

    def html(self, name: str, document: dict) -> str:
        return self.part_html(document, draws_table)


def draws_part(pipeline, builds: dict) -> dict:
    """results.json's calibration_draws: the default recipe's draws (each draw's figures, the spread of Top-1 and of
    the paired drop, whether they agree on the gate) and, when asked, the same per repeated variant."""
    config = pipeline.config
    count, recipes = config.calibration_repeats.count, repeated(pipeline)
    first_builds = {recipe.name: pipeline.default_build if recipe is recipes[0] else pipeline.build(recipe)
                    for recipe in recipes}
    evaluated_as = {recipes[0].name: pipeline.role("quantized").key}  # the default model's evaluation key
    parts = {recipe.name: _recipe_draws(pipeline, recipe, first_builds[recipe.name],
                                        evaluated_as.get(recipe.name, recipe.name), builds[recipe.name])
             for recipe in recipes}
    default = parts.pop(recipes[0].name)
    out = {"repeats": count, "seeds": [config.seed + i for i in range(count)], "cost": cost(count, len(recipes)),
           **default}
    return {**out, "variants": parts} if config.calibration_repeats.variants else out


def _recipe_draws(pipeline, recipe, first, first_key: str, builds: dict) -> dict:
    config, evaluations = pipeline.config, pipeline.evaluations
    thresholds, classes = config.thresholds, pipeline.core["num_classes"]
    float_key = pipeline.framework.models[0].key
    reference = evaluations[float_key]
    rows = []
    for draw, (seed, made) in {1: (config.seed, first), **builds}.items():
        name = first_key if draw == 1 else draw_name(recipe.name, draw)
        result, error = evaluations.get(name), made.error or pipeline.evaluation_failures.get(name)
        if error or result is None:
            rows.append({"draw": draw, "seed": seed, "file": str(made.path) if made.path else None,
                         "cache": made.cache, "error": error or "not evaluated", "within_threshold": None})
            continue
        paired = compare_paired(reference.correct, result.correct, thresholds.confidence).as_dict()
        interval = list(wilson_interval(int(result.correct.sum()), len(result.correct), thresholds.confidence))
        row = {"draw": draw, "seed": seed, "file": str(made.path), "cache": made.cache,
               "build_seconds": None if made.seconds is None else round(made.seconds, 2),
               "top_1_accuracy": result.top1, "top_1_interval": interval, "top_1_drop_points": paired["drop_points"],
               f"agreement_with_{float_key}": metrics.agreement(result.predictions, reference.predictions),
               "drop_interval_points": list(paired["interval_points"]),
               "decision": decision(paired, recipe.max_top1_drop, thresholds)}
        row["verdict"] = row["decision"]["verdict"]
        row["within_threshold"] = within_thresholds(row, recipe.min_top1, classes)
        rows.append(row)
    judged = [row for row in rows if not row.get("error")]
    return {
        "draws": rows,
        "spread": {key: spread([row[key] for row in judged]) for key in ("top_1_accuracy", "top_1_drop_points")},
        "stable": bool(judged) and len(judged) == len(rows) and len({row["within_threshold"] for row in judged}) == 1,
        "failed": [row["draw"] for row in rows if row.get("error")],
    }


def spread(values: list[float]) -> dict:
    """min, max and the sample standard deviation (ddof 1; 0 for one value) of the draws' figures."""
    if not values:
        return {"min": None, "max": None, "std": None}
    data = np.asarray(values, dtype=float)
    return {"min": float(data.min()), "max": float(data.max()),  # std rounded: equal figures give 0, not 1e-16
            "std": round(float(data.std(ddof=1)), 10) if len(data) > 1 else 0.0}


def gate_word(row: dict) -> str:
    return "ERROR" if row.get("error") else "PASS" if row["within_threshold"] else "FAIL"


def recipes_of(part: dict) -> dict:
    """Recipe name -> its draws' part: the default recipe ("quantized"), then the repeated variants."""
    return {"quantized": part, **part.get("variants", {})}


def summary_lines(part: dict) -> list[str]:
    """The spread beside the figure, per repeated recipe: Top-1 and the drop of its first draw, then min..max and sd
    over the draws, and the gate per draw."""
    recipes = recipes_of(part)
    lines = [f"calibration draws ({cost_text(part['repeats'], len(recipes))}), seeds "
             f"{', '.join(map(str, part['seeds']))}"]
    for recipe, own in recipes.items():
        first, top1, drop = own["draws"][0], own["spread"]["top_1_accuracy"], own["spread"]["top_1_drop_points"]
        if top1["min"] is not None and not first.get("error"):
            lines.append(f"{recipe}: Top-1 {first['top_1_accuracy']:.4f} (draws {top1['min']:.4f} to "
                         f"{top1['max']:.4f}, sd {top1['std']:.4f}); drop {first['top_1_drop_points']:+.2f} points "
                         f"(draws {drop['min']:+.2f} to {drop['max']:+.2f}, sd {drop['std']:.2f})")
        word = "stable" if own["stable"] else "NOT stable"
        lines.append(f"{recipe}: gate per draw: {', '.join(gate_word(row) for row in own['draws'])}: {word} across "
                     "calibrations")
    return lines


def draws_table(part: dict) -> str:
    """The spread beside the figure (the summary lines), then a row per recipe and draw: seed, Top-1 with its
    interval, the drop with its paired interval, the decision rule's word and the gate."""
    from html import escape

    from vsq.rendering.html_parts import top1_cell, verdict_cell

    rows = []
    for recipe, own in recipes_of(part).items():
        for row in own["draws"]:
            if row.get("error"):
                cells = ("—", "—", "—", "ERROR: " + escape(str(row["error"])[:200]))
            else:
                low, high = row["drop_interval_points"]
                cells = (top1_cell(row), f"{row['top_1_drop_points']:+.2f} [{low:+.1f}, {high:+.1f}]",
                         verdict_cell(row["decision"]), gate_word(row))
            cells = (escape(recipe), escape(str(row["draw"])), escape(str(row["seed"])), *cells)
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in ("recipe", "draw", "seed", "Top-1", "drop (pp)", "verdict", "gate"))
    notes = "".join(f'<p class="vsq-note">{escape(line)}</p>' for line in summary_lines(part))
    return f'{notes}<table class="vsq-variants"><tr>{head}</tr>{"".join(rows)}</table>'


def verdict_is_stable_across_calibrations(pipeline, item=None) -> Check:
    """Every repeated recipe's draws were built and evaluated and agree on its gate."""
    part = pipeline.part(CALIBRATIONS.key)
    recipes = recipes_of(part)
    figures = {"repeats": part["repeats"], "seeds": ",".join(map(str, part["seeds"])),
               **{f"gate_per_draw[{recipe}]": ",".join(gate_word(row) for row in own["draws"])
                  for recipe, own in recipes.items()},
               **{f"top_1_{name}": value for name, value in part["spread"]["top_1_accuracy"].items()},
               **{f"drop_points_{name}": value for name, value in part["spread"]["top_1_drop_points"].items()}}
    errors = "; ".join(f"{recipe} draw {row['draw']} (seed {row['seed']}): {' '.join(str(row['error']).split())}"
                       for recipe, own in recipes.items() for row in own["draws"] if row.get("error"))
    if errors:
        return Check(False, f"{pipeline.name}: a calibration draw could not be built or evaluated: {errors}", figures)
    unstable = {recipe: own for recipe, own in recipes.items() if not own["stable"]}
    said = "; ".join(f"{'the default recipe' if recipe == 'quantized' else recipe}'s gate depends on the calibration "
                     "draw: " + ", ".join(f"seed {row['seed']}: {gate_word(row)} (Top-1 {row['top_1_accuracy']:.4f}, "
                                          f"drop {row['top_1_drop_points']:+.2f})" for row in own["draws"])
                     for recipe, own in unstable.items())
    return Check(not unstable, f"{pipeline.name}: {said}; max_top1_drop is "
                 f"{pipeline.config.thresholds.max_top1_drop} points. Calibrate on more images (iteration_count, "
                 "batch_size), or choose a recipe whose verdict holds on every draw", figures)


CALIBRATIONS = Calibrations()
CALIBRATIONS.checks = (
    CheckSpec(STABILITY_CHECK, verdict_is_stable_across_calibrations, whole_run=True),
)
