"""Baselines: the last accepted figure of each model (its task's, vsq.core.drop_figure: Top-1, a detector's
mAP@[.5:.95]), per configuration, and the comparison with it.

The file holds every configuration that shares it: {"configurations": {name: entry}}. Accepting
rewrites it atomically under a lock (several configurations, several workers) and keeps the file it
replaced as <stem>.previous<suffix>. A classifier's entry keeps which images each model got right
(vsq.statistics.per_image), so today's comparison is paired on the images both runs share and judged by the decision
rule; entries accepted before that (format 1) and a detector's (its detections are not kept) are compared as points,
and say so.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from vsq.util import atomic
from vsq.statistics import metrics, per_image
from vsq.errors import VsqError
from vsq.core.verdicts import decision
from vsq.rendering.drops import variant_figures
from vsq.core.verdicts import Check, CheckSpec
from vsq.sections.base import Section
from vsq.sections.baseline_origin import evaluation_set, mismatch, origin
from vsq.sections.baseline_read import checked
from vsq.statistics.paired import compare_paired
from vsq.tasks import figure_of

FORMAT = 2  # 2: entries keep per-image correctness


def figures(document: dict) -> dict:
    """The task's figure per model (and per variant) of a results.json document: Top-1, a detector's mAP@[.5:.95]."""
    figure = figure_of(document)
    out = {name: figure.value(model) for name, model in document["models"].items()}
    return {**out, **variant_figures(document)}


def entry(document: dict) -> dict:
    """The baseline entry of a results.json document: its figures under the figure's key ("top_1", a detector's
    "map_50_95"), and its per-image record when the task keeps one."""
    env = document["environment"]
    return {
        "accepted": document["created"],
        figure_of(document).history: figures(document),
        **({"per_image": document["per_image"]} if "per_image" in document else {}),
        "versions": {key: env.get(key) for key in ("vsq", "tensorflow", "model_compression_toolkit")},
        **origin(document),  # which configuration, stack and evaluation set (num_images) made these figures
    }


def previous_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def read(path: Path) -> dict:
    """The whole baseline file; an empty one when it does not exist yet."""
    if not path.exists():
        return {"format": FORMAT, "configurations": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("configurations"), dict):
            raise ValueError("no \"configurations\" object")
        return data
    except (OSError, ValueError, AttributeError) as error:
        raise VsqError(f"{path}: not a vsq baseline file ({error}); point --baseline at a file written by "
                       "--accept-baseline, or remove it and accept again") from None


@contextmanager
def _locked(path: Path):
    """An exclusive lock on .<name>.lock beside the baseline file (opened without truncating, never through a link)."""
    fd = atomic.open_own(path.with_name(f".{path.name}.lock"), os.O_WRONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def accept(path: Path, name: str, document: dict) -> dict | None:
    """Store the document's figures as the accepted ones for `name`; return the entry they replace."""
    with _locked(path):
        data = read(path)
        old = data["configurations"].get(name)
        if path.exists():
            with atomic.atomic_path(previous_path(path)) as tmp:  # replaces a link planted there, not its target
                shutil.copyfile(path, tmp)
        data["format"] = FORMAT
        data["configurations"][name] = entry(document)
        atomic.write_json(path, data)
    try:
        return checked(path, name, old, figure_of(document).history)
    except VsqError:  # a malformed entry is replaced: it has no figures to show
        return None


@dataclass(frozen=True)
class Comparison:
    """Today against the accepted run. Paired (on the images both share) when both keep per-image
    results: then drop_points is over those images, with its interval and the decision rule's verdict."""

    model: str
    current: float
    accepted: float | None
    drop_points: float | None
    tolerance_points: float
    accepted_on: str | None
    paired: dict | None = None  # vsq.statistics.paired.PairedComparison.as_dict(), accepted as the reference
    decision: dict | None = None  # vsq.core.verdicts.decision on paired
    images_added: int = 0  # evaluation images today has and the accepted run had not
    images_removed: int = 0
    unpaired: str = ""  # why the comparison is of points (no per-image record on one side); "" when paired

    @property
    def ok(self) -> bool:
        if self.accepted is None:
            return False
        return self.decision["passes"] if self.decision else self.drop_points <= self.tolerance_points


def compare(document: dict, accepted: dict | None, model: str, tolerance_points: float, thresholds) -> Comparison:
    """Today's figure of `model` against the accepted one: paired by the decision rule when both keep per-image
    results, else the point drop against the tolerance (`unpaired` says why)."""
    figure = figure_of(document)
    current = figures(document).get(model)
    kept = (accepted or {}).get(figure.history)
    value = kept.get(model) if isinstance(kept, dict) else None
    drop = metrics.top1_drop_points(value, current) if value is not None and current is not None else None
    unpaired = "" if value is None else figure.baseline_unpaired or (
        "" if "per_image" in accepted else "the baseline keeps no per-image results (accept again to pair)")
    comparison = Comparison(model, current, value, drop, tolerance_points, (accepted or {}).get("accepted"),
                            unpaired=unpaired)
    aligned = per_image.align(accepted["per_image"], document["per_image"], model) \
        if value is not None and not unpaired and "per_image" in document else None
    if aligned is None:
        return comparison
    then, now, added, removed = aligned
    paired = compare_paired(then, now, thresholds.confidence).as_dict()
    return replace(comparison, drop_points=paired["drop_points"], paired=paired, unpaired="",
                   decision=decision(paired, tolerance_points, thresholds), images_added=added,
                   images_removed=removed)


class Baseline(Section):
    """The accepted baseline of a configuration (--baseline, else its "baseline" key), read once, or with
    --accept-baseline written once from this run's figures; then every model compared with it."""

    key = "baseline"
    tasks = ("classification", "detection")  # each compared by its figure (vsq.core.drop_figure)

    def applies(self, pipeline) -> bool:
        return pipeline.options.baseline_for(pipeline.config) is not None

    def build(self, pipeline) -> dict:
        path, options = pipeline.options.baseline_for(pipeline.config), pipeline.options
        document = {**pipeline.core, **({"variants": pipeline.part("variants")} if pipeline.has_section("variants")
                                        else {})}
        replaced = accept(path, pipeline.name, document) if options.accept_baseline else None
        thresholds, figure = pipeline.config.thresholds, figure_of(document)
        accepted = entry(document) if options.accept_baseline else checked(
            path, pipeline.name, read(path)["configurations"].get(pipeline.name), figure.history)
        comparisons = {model: compare(document, accepted, model, thresholds.max_baseline_drop, thresholds)
                       for model in _models(pipeline)}
        return {"file": str(path), "accepting": options.accept_baseline,
                "accepted_on": (accepted or {}).get("accepted"),
                # the replaced entry's figure per model (its DropFigure's: Top-1, a detector's mAP@[.5:.95]); read
                # by this run's checks only (results.json of an earlier vsq: "replaced_top_1", read by nothing)
                "replaced_figures": (replaced or {}).get(figure.history) if options.accept_baseline else None,
                "mismatch": mismatch(accepted, origin(document)) if accepted else None,
                "evaluation_set": evaluation_set(accepted, origin(document)) if accepted else None,
                "models": {model: asdict(comparison) for model, comparison in comparisons.items()}}


def _models(pipeline) -> list[str]:
    """Every model with a figure: the reference models, the variants and the given files compared."""
    from vsq.pipeline.given import compared

    return [*(model.key for model in pipeline.framework.models), *(variant.name for variant in pipeline.config.variants),
            *(item.name for item in compared(pipeline.job.given))]


def no_drop_against_baseline(pipeline, model: str) -> Check:
    from vsq.core.reference import BY_KEY
    from vsq.util.paths import shown

    part, figure = pipeline.part(BASELINE.key), pipeline.task.drop_figure
    result = Comparison(**part["models"][model])
    path, tolerance, word = Path(part["file"]), pipeline.config.thresholds.max_baseline_drop, figure.word
    figures = {"model": model, figure.figure: result.current, f"baseline_{figure.figure}": result.accepted,
               "baseline_drop_points": result.drop_points, "max_baseline_drop": tolerance, "baseline_file": str(path),
               "baseline_paired": result.paired is not None}
    if result.paired:
        figures.update(baseline_images_lost=result.paired["reference_only"],
                       baseline_images_gained=result.paired["candidate_only"],
                       baseline_drop_interval_points=result.paired["interval_points"],
                       baseline_mcnemar_p_value=result.paired["p_value"], baseline_verdict=result.decision["verdict"],
                       images_added=result.images_added, images_removed=result.images_removed)
    if part["accepting"]:
        figures[f"replaced_baseline_{figure.figure}"] = (part["replaced_figures"] or {}).get(model)
    described = BY_KEY[model].described if model in BY_KEY else _described(pipeline, model)
    if result.current is None:
        return Check(False, f"{pipeline.name}: {described} has no {word} in this run: it could not be built (see its "
                     "own tests)", figures)
    accept_it = _accept_it(pipeline, path)
    if result.accepted is None:
        return Check(False, f"{pipeline.name}: no accepted {word} of {described} for configuration {pipeline.name!r} "
                     f"in {shown(path)}; {accept_it}", figures)
    how = _pairing(result, pipeline.config.thresholds.decision_rule)
    return Check(result.ok, f"{pipeline.name}: {described} {word} {result.current:.4f} is {result.drop_points:.2f} points "
                 f"below the accepted {result.accepted:.4f} ({shown(path)}, accepted {result.accepted_on}{how}); "
                 f"thresholds.max_baseline_drop is {tolerance} points; {accept_it}", figures,
                 result.decision["verdict"] if result.decision else "")


def _accept_it(pipeline, path: Path) -> str:
    from vsq.util.paths import shown

    return (f"if the new figure is right, accept it: pytest suites/ --config {shown(pipeline.config.file)} "
            f"--baseline {shown(path)} --accept-baseline")


def baseline_matches_configuration_and_stack(pipeline, _item=None) -> Check:
    """The accepted baseline was made by this configuration's settings and this stack (vsq.sections.baseline_origin);
    without an accepted entry there is nothing to match (no_drop_against_baseline says so)."""
    from vsq.util.paths import shown

    part = pipeline.part(BASELINE.key)
    path, why = Path(part["file"]), part.get("mismatch")
    figures = {"baseline_file": str(path), "baseline_accepted_on": part["accepted_on"], "baseline_mismatch": why,
               "baseline_evaluation_set": part.get("evaluation_set")}  # "not recorded" for entries of before
    if why is None:
        return Check(True, "", figures)
    return Check(False, f"{pipeline.name}: the baseline in {shown(path)} (accepted {part['accepted_on']}) {why}: the "
                 f"comparison with it is not like for like; {_accept_it(pipeline, path)}",
                 figures)


def _pairing(result: Comparison, rule: str) -> str:
    """How the baseline comparison was made, for its message."""
    if result.paired is None:
        why = result.unpaired or "the baseline keeps no per-image results"
        how = "" if rule == "point" else f", not by thresholds.decision_rule {rule} (it needs a paired interval)"
        return f"; unpaired: {why}, so compared as points{how}"
    low, high = result.paired["interval_points"]
    changed = (f"; the evaluation set changed: {result.images_added} images added, {result.images_removed} removed"
               if result.images_added or result.images_removed else "")
    return (f"; paired on {result.paired['num_images']} shared images: {result.paired['reference_only']} lost, "
            f"{result.paired['candidate_only']} gained, interval {low:+.2f} to {high:+.2f}, "
            f"{result.decision['verdict']}{changed}")


BASELINE = Baseline()
BASELINE.checks = (CheckSpec("no_drop_against_baseline", no_drop_against_baseline, _models, whole_run=True),
                   CheckSpec("baseline_matches_configuration_and_stack", baseline_matches_configuration_and_stack,
                             whole_run=True))


def _described(pipeline, name: str) -> str:
    """A variant with the file its runtime loads (model_<name>.tflite, .onnx, .xml), or a given file as written."""
    variant = next((v for v in pipeline.config.variants if v.name == name), None)
    if variant is not None:
        return f"variant {name} ({pipeline.framework.recipe_files(variant)[0]})"
    given = next(item for item in pipeline.job.given if item.name == name)
    return f"given model {name} ({given.written})"
