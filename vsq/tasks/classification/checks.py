"""Classification's checks: its data (labels.json against the class folders and the model's outputs), the float
model's Top-1 (beats chance, meets its expectation, makes the drops meaningful) and the default quantized model's
Top-1 drop and minimum. Each is a function of the run (vsq.core.checks.Run) that returns a Check."""

from __future__ import annotations

import json

import numpy as np

from vsq.core.check_names import DROPS_MEANINGFUL_CHECK, QUANTIZED_DROP_CHECK
from vsq.core.checks import Run, quantized
from vsq.core.verdicts import Check, CheckSpec, counts_as_pass, float_near_chance, near_chance_limit

# --- the data ------------------------------------------------------------------------------------------------


def labels_are_ids_zero_to_n_minus_one(p: Run, _=None) -> Check:
    label_file = p.config.evaluate_label_file
    labels = json.loads(label_file.read_text(encoding="utf-8-sig"))
    ids = sorted(labels.values())
    return Check(ids == list(range(len(labels))),
                 f"{p.name}: {label_file.name} ids are {ids[:10]}, not 0..{len(labels) - 1}; renumber them",
                 {"num_labels": len(labels)})


def every_class_folder_has_a_label_and_images(p: Run, _=None) -> Check:
    names = p.job.evaluation_set.class_names
    counts = np.bincount(np.asarray(p.job.evaluation_set.labels), minlength=len(names))
    folders = sorted(path.name for path in p.config.evaluate_image_dir.iterdir() if path.is_dir())
    unmatched = sorted(set(folders) ^ set(names))
    empty = [name for name, count in zip(names, counts) if count == 0]
    return Check(not unmatched and not empty,
                 f"{p.name}: class folders and labels.json differ on {unmatched[:5]}, classes without images: "
                 f"{empty[:5]}; every label needs one folder of images",
                 {"images_per_class": json.dumps(dict(zip(names, counts.tolist())))})


def labels_match_model_outputs(p: Run, _=None) -> Check:
    outputs, classes = p.model_info.num_outputs, p.job.evaluation_set.num_classes
    return Check(outputs == classes,
                 f"{p.name}: the model has {outputs} outputs but labels.json {classes} classes; list one class per output",
                 {"model_outputs": outputs, "num_classes": classes})


# --- the float model: does this evaluation give it the Top-1 it can have? ----------------------------------------


def _screen_hint(p: Run) -> str:
    return p.section_hint("screen") if p.has_section("screen") else ""


def _float_figures(p: Run) -> tuple:
    """The float model, its results entry, and the figures every float check records."""
    model = p.framework.models[0]
    entry, document = p.core["models"][model.key], p.core
    low, high = entry["top_1_interval"]
    return model, entry, {"top_1_accuracy": entry["top_1_accuracy"], "top_1_interval_low": low,
                          "top_1_interval_high": high, "chance": 1.0 / document["num_classes"],
                          "num_images": document["num_images"]}


def float_model_beats_chance(p: Run, _=None) -> Check:
    """thresholds.min_float_top1, or without it the near-chance rule (vsq.core.verdicts.near_chance_limit)."""
    model, entry, figures = _float_figures(p)
    top1, high, minimum = entry["top_1_accuracy"], figures["top_1_interval_high"], p.config.thresholds.min_float_top1
    off = "the evaluation, not the quantization, is off"
    if minimum is not None:
        check = Check(top1 >= minimum, f"{p.name}: {model.described} Top-1 {top1:.4f} is below "
                      f"thresholds.min_float_top1 {minimum:.4f}: {off}", {**figures, "min_float_top1": minimum})
    else:
        limit, confidence = near_chance_limit(p.core["num_classes"]), p.config.thresholds.confidence
        check = Check(high >= limit, f"{p.name}: {model.described} Top-1 {top1:.4f} on {figures['num_images']} images "
                      f"is near chance ({figures['chance']:.4f}): its {confidence * 100:g} % interval ends at "
                      f"{high:.4f}, under {limit:.4f} (1.5 x chance or chance + 10 points); {off}",
                      {**figures, "min_float_top1": f"not near chance (interval reaching {limit:.4f})"})
    return check if check.ok else check.with_hint(_screen_hint(p))


def float_top1_meets_expected(p: Run, _=None) -> Check:
    """expected_top1 less its tolerance, under thresholds.decision_rule (point: the observed Top-1; confident: its
    interval wholly below fails, wholly at or above passes, else INCONCLUSIVE)."""
    model, entry, figures = _float_figures(p)
    expected, thresholds = p.config.expected_top1, p.config.thresholds
    top1, low, high, floor = entry["top_1_accuracy"], figures["top_1_interval_low"], figures["top_1_interval_high"], \
        expected.floor
    if thresholds.decision_rule == "point":
        verdict = "PASS" if top1 >= floor else "FAIL"
    else:
        verdict = "FAIL" if high < floor else "PASS" if low >= floor else "INCONCLUSIVE"
    passes = counts_as_pass(verdict, thresholds)
    said = (f"{model.described} Top-1 {top1:.4f} on {figures['num_images']} images ({thresholds.confidence * 100:g} % "
            f"interval {low:.3f} to {high:.3f})")
    target = f"expected_top1 {expected.top1:.4f} less {expected.tolerance_points:g} points ({floor:.4f})"
    if verdict == "INCONCLUSIVE":
        mapped = "pass" if passes else "fail (pass would accept it)"
        message = (f"{p.name}: INCONCLUSIVE: {said} straddles {target}: more images decide it; "
                   f"thresholds.inconclusive is {mapped}")
    else:
        message = f"{p.name}: {said} is below {target}: the evaluation, not the quantization, is off"
    figures.update(expected_top1=expected.top1, tolerance_points=expected.tolerance_points, expected_floor=floor,
                   decision_rule=thresholds.decision_rule, verdict=verdict)
    check = Check(passes, message, figures, verdict)
    return check if passes else check.with_hint(_screen_hint(p))


def drops_are_meaningful(p: Run, _=None) -> Check:
    """The drops against the float model say something about quantization: the float model is not near chance
    (vsq.core.verdicts.float_near_chance; thresholds.min_float_top1 set turns the rule off). While it fails, the
    drop checks fail as meaningless and the tables' verdict column says MEANINGLESS."""
    model, entry, figures = _float_figures(p)
    near = float_near_chance(p.core, p.config.thresholds)
    figures.update(float_near_chance=near, near_chance_limit=near_chance_limit(p.core["num_classes"]),
                   rule="off (thresholds.min_float_top1 is set)" if p.config.thresholds.min_float_top1 is not None
                   else "on")
    return Check(not near, f"{p.name}: every drop against {model.described} is meaningless: it is near chance itself "
                 f"(Top-1 {entry['top_1_accuracy']:.4f}, chance {figures['chance']:.4f}, its interval ending at "
                 f"{figures['top_1_interval_high']:.4f}, under {figures['near_chance_limit']:.4f}); fix the evaluation "
                 "first (float_model_beats_chance)", figures)


CHECKS = (
    CheckSpec("labels_are_ids_zero_to_n_minus_one", labels_are_ids_zero_to_n_minus_one),
    CheckSpec("every_class_folder_has_a_label_and_images", every_class_folder_has_a_label_and_images),
    CheckSpec("labels_match_model_outputs", labels_match_model_outputs),
    CheckSpec(QUANTIZED_DROP_CHECK, quantized(0), whole_run=True),
    CheckSpec("quantized_top1_above_minimum", quantized(2), whole_run=True),
    CheckSpec("float_model_beats_chance", float_model_beats_chance, whole_run=True),
    CheckSpec(DROPS_MEANINGFUL_CHECK, drops_are_meaningful, whole_run=True),
    CheckSpec("float_top1_meets_expected", float_top1_meets_expected, whole_run=True,
              applies=lambda p: p.config.expected_top1 is not None),
)
