"""The drops of a results document, each with its interval, threshold and verdict: what the forest plot draws
and the history keeps. Read from the document only; a verdict is taken from the verdicts map (`checks`),
never recomputed.

One row per model paired with the float reference (`models.<key>.paired.<float key>`: keras, pytorch) and per variant (`variants.models.<name>`, not the
reference models' rows). A row's verdict is its check's in `checks` (vsq.core.check_names), else none: a
document of an older format gains those entries when vsq.pipeline.results.read migrates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vsq.core.check_names import STABILITY_CHECK, VARIANT_DROP_CHECK, variant_check
from vsq.core.drop_figure import TOP_1, DropFigure
from vsq.core.reference import BY_FILE, BY_KEY, reference_model
from vsq.tasks import figure_of

VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")


@dataclass(frozen=True)
class Drop:
    key: str  # the model's key in `models`, or the variant's name
    label: str  # "quantized TFLite", "variant tf_float16"
    drop_points: float | None  # None: not evaluated (a variant that failed to build)
    interval_points: tuple[float, float] | None
    limit_points: float | None  # the threshold; None when nothing judges the drop
    symmetric: bool  # the threshold holds on both sides (the float file must agree with Keras)
    verdict: str  # PASS, FAIL, INCONCLUSIVE, or "" (no verdict recorded)
    passes: bool | None  # what the gate made of it
    check: str | None  # the check's name in `checks`
    variant: bool = False  # a row of the variants section
    note: str = ""  # the words beside the row instead of the verdict's (a calibration draw's)


def drops(document: dict) -> list[Drop]:
    """Every paired drop of the document: the models in their order (Keras, the reference, has none), then
    the variants."""
    configuration = _mapping(document.get("configuration"))
    thresholds, figure = _mapping(configuration.get("thresholds")), figure_of(document)
    float_key = reference_model(document, "float").key
    out = []
    for key, model in _mapping(document.get("models")).items():
        if key == float_key or not isinstance(model, dict):
            continue
        label = BY_KEY[key].label if key in BY_KEY else str(key)
        check = figure.check_of(BY_KEY[key]) if key in BY_KEY else None
        # Top-1: the float export is held to max_float_top1_drop on both sides; the quantized models to max_top1_drop.
        float_export = key in BY_KEY and BY_KEY[key].role == "float_export" and figure.export_threshold is not None
        limit = (thresholds.get(figure.export_threshold) if float_export else
                 _judged(model).get("max_top1_drop", figure.limit(configuration) if check else None))
        drop = _drop(model, _mapping(document.get("top_1_drop_points")).get(key), float_key, figure)
        out.append(_row(document, key, label, model, drop, limit, float_export, check))
    for name, row in _mapping(_mapping(document.get("variants")).get("models")).items():
        if not isinstance(row, dict) or row.get("reference") or name in BY_FILE:
            continue
        check = variant_check(VARIANT_DROP_CHECK, name)
        limit = _judged(row).get("max_top1_drop", row.get("max_top1_drop"))
        drop = _drop(row, row.get("top_1_drop_points"), float_key) if not row.get("error") else (None, None)
        out.append(_row(document, str(name), f"variant {name}", row, drop, limit, False, check))
    return out


def draw_drops(document: dict) -> list[Drop]:
    """The calibration draws after the first (the first is the recipe's own row) with their intervals, per repeated
    recipe: for the forest plot only (the history keeps the models' drops). No check judges a single draw: the
    stability check judges them together, so a draw is red when that check failed and grey otherwise, and its
    words say which."""
    part = _mapping(document.get("calibration_draws"))
    recipes = {"quantized": part, **_mapping(part.get("variants"))} if part else {}
    verdict, _ = verdict_of(document, STABILITY_CHECK)
    out = []
    for recipe, own in recipes.items():
        for row in [row for row in _mapping(own).get("draws", []) if isinstance(row, dict)][1:]:
            written = row.get("drop_interval_points")
            interval = tuple(_number(value) for value in written) if isinstance(written, list) else ()
            drop = (_number(row.get("top_1_drop_points")), interval if len(interval) == 2 and None not in interval
                    else None)
            word = {"FAIL": "NOT stable", "PASS": "stable"}.get(verdict, "")  # short: the chart's margin is narrow
            out.append(Drop(f"{recipe}.draw{row.get('draw')}", f"{recipe} draw {row.get('draw')} (seed "
                            f"{row.get('seed')})", drop[0], drop[1], _number(_judged(row).get("max_top1_drop")),
                            False, "FAIL" if verdict == "FAIL" else "", None, STABILITY_CHECK,
                            note=f"draw: {word}" if word else "draw"))
    return out


def _row(document: dict, key: str, label: str, model: dict, drop: tuple, limit, symmetric: bool,
         check: str | None) -> Drop:
    verdict, passes = verdict_of(document, check)
    return Drop(key, label, drop[0], drop[1], _number(limit), symmetric, verdict, passes, check,
                variant=check is not None and check.startswith(VARIANT_DROP_CHECK))


def figure_words(documents: dict[str, dict]) -> str:
    """What the documents' drop charts show: "Top-1", "mAP@[.5:.95]", or both ("Top-1 / mAP@[.5:.95]")."""
    return " / ".join(dict.fromkeys(figure_of(document).word for document in documents.values())) or "Top-1"


def shared_figure(documents: dict[str, dict]) -> DropFigure:
    """The figure every document's tables show (its task's), or Top-1 when they differ or there is none."""
    found = set(figure_of(document) for document in documents.values())
    return found.pop() if len(found) == 1 else TOP_1


def check_entry(document: dict, check: str | None) -> dict | None:
    """The verdicts map's entry of a check, when it is one (documents come from other machines)."""
    entry = _mapping(document.get("checks")).get(check) if check else None
    return entry if isinstance(entry, dict) and entry.get("verdict") in VERDICTS else None


def verdict_of(document: dict, check: str | None) -> tuple[str, bool | None]:
    """(verdict, passes) of a check from the verdicts map, the one source of verdicts; ("", None) without its
    entry (a run that did not finish, a model no check judges)."""
    entry = check_entry(document, check)
    if entry is None:
        return "", None
    return entry["verdict"], bool(entry.get("passes", entry["verdict"] == "PASS"))


def row_check(name: str, row: dict) -> str | None:
    """The check that judges a variants-table row's drop under max_top1_drop: a variant's own, the default
    model's file's (model_quantized.tflite / .onnx: its role's check); None for the float export (judged both
    ways by its own check, shown in the Top-1 table)."""
    if not row.get("reference"):
        return variant_check(VARIANT_DROP_CHECK, name)
    reference = BY_FILE.get(name)
    return reference.check if reference and reference.role == "quantized" else None


def with_paired(name: str, row: dict, models: dict | None) -> dict:
    """A variants-table row of a reference file (model.tflite, model_quantized.tflite / .onnx) with its model's
    paired comparison with the float model from the document's `models` (the section keeps it for the rows it judges only)."""
    reference = BY_FILE.get(name)
    paired = _mapping(_mapping(models).get(reference.key)).get("paired") if reference else None
    return {**row, "paired": paired} if paired and not row.get("paired") else row


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _judged(model: dict) -> dict:
    judged = model.get("decision")
    return judged if isinstance(judged, dict) else {}


def _drop(model: dict, fallback, float_key: str,
          figure: DropFigure = TOP_1) -> tuple[float | None, tuple[float, float] | None]:
    """The paired drop of the figure and its interval; a document without the paired statistics: the plain drop."""
    paired = figure.paired(_mapping(model.get("paired")).get(float_key))
    if isinstance(paired, dict):
        drop, interval = _number(paired.get("drop_points")), paired.get("interval_points")
        if drop is not None and isinstance(interval, (list, tuple)) and len(interval) == 2:
            low, high = _number(interval[0]), _number(interval[1])
            if low is not None and high is not None:
                return drop, (low, high)
        return drop, None
    return _number(fallback), None


def _number(value) -> float | None:
    """A finite number, else None (documents come from other machines)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def variant_figures(document: dict) -> dict:
    """Top-1 per variant (not the reference models' files, which are in "top_1")."""
    rows = document.get("variants", {}).get("models", {})
    return {name: row["top_1_accuracy"] for name, row in rows.items()
            if name not in BY_FILE and row.get("top_1_accuracy") is not None}
