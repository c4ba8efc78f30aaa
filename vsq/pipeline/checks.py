"""The core checks of every configuration: the configuration itself, its data, and Top-1 of the reference
models. Each is a function of the pipeline that returns a Check: the one sentence a failing test says (it
names the configuration and its figures) and the figures its test records. suites/ assert them by name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from vsq.configuration.config import schema
from vsq.core.check_names import DROPS_MEANINGFUL_CHECK, QUANTIZED_DROP_CHECK
from vsq.core.reference import BY_FILE
from vsq.core.checks import quantized
from vsq.core.verdicts import Check, CheckSpec, counts_as_pass, float_near_chance, near_chance_limit
from vsq.util.paths import shown

if TYPE_CHECKING:
    from vsq.pipeline.pipeline import Pipeline


# --- the configuration -------------------------------------------------------------------------------------


def schema_valid(p: Pipeline, _=None) -> Check:
    import jsonschema

    errors = [error.message for error in jsonschema.Draft202012Validator(schema()).iter_errors(p.config.raw)]
    return Check(not errors, f"{p.name}: {len(errors)} schema errors in {p.config.file.name}: {errors[:2]}",
                 {"schema_errors": len(errors)})


def path_is_not_a_symlink(p: Pipeline, key: str) -> Check:
    path = getattr(p.config, key)
    return Check(not path.is_symlink(), f"{p.name}: {key}: {shown(path)} is a symbolic link; point at the real path",
                 {key: str(path)})


def batch_size_within_calibration_images(p: Pipeline, _=None) -> Check:
    batch, images = p.config.batch_size, len(p.job.calibration_images)
    return Check(1 <= batch <= images,
                 f"{p.name}: batch_size {batch} is not within 1..{images} (the calibration images); lower it",
                 {"batch_size": batch, "calibration_images": images})


def input_tensor_size_matches_model(p: Pipeline, _=None) -> Check:
    shape, size = tuple(p.model_info.input_shapes[0]), p.config.input_tensor_size
    return Check(shape[1:] in ((size, size, 3), (None, None, 3)),
                 f"{p.name}: input_tensor_size {size} does not match the model's input {shape}",
                 {"input_tensor_size": size, "model_input_shape": str(shape)})


# --- the data ------------------------------------------------------------------------------------------------


def labels_are_ids_zero_to_n_minus_one(p: Pipeline, _=None) -> Check:
    label_file = p.config.evaluate_label_file
    labels = json.loads(label_file.read_text(encoding="utf-8-sig"))
    ids = sorted(labels.values())
    return Check(ids == list(range(len(labels))),
                 f"{p.name}: {label_file.name} ids are {ids[:10]}, not 0..{len(labels) - 1}; renumber them",
                 {"num_labels": len(labels)})


def every_class_folder_has_a_label_and_images(p: Pipeline, _=None) -> Check:
    names = p.job.evaluation_set.class_names
    counts = np.bincount(np.asarray(p.job.evaluation_set.labels), minlength=len(names))
    folders = sorted(path.name for path in p.config.evaluate_image_dir.iterdir() if path.is_dir())
    unmatched = sorted(set(folders) ^ set(names))
    empty = [name for name, count in zip(names, counts) if count == 0]
    return Check(not unmatched and not empty,
                 f"{p.name}: class folders and labels.json differ on {unmatched[:5]}, classes without images: "
                 f"{empty[:5]}; every label needs one folder of images",
                 {"images_per_class": json.dumps(dict(zip(names, counts.tolist())))})


def labels_match_model_outputs(p: Pipeline, _=None) -> Check:
    outputs, classes = p.model_info.num_outputs, p.job.evaluation_set.num_classes
    return Check(outputs == classes,
                 f"{p.name}: the model has {outputs} outputs but labels.json {classes} classes; list one class per output",
                 {"model_outputs": outputs, "num_classes": classes})


def calibration_images_decode(p: Pipeline, _=None) -> Check:
    config, calibration = p.config, p.calibration
    shape, iterations = calibration.pixels.shape[1:], len(calibration.batches)
    sizes = sorted({len(batch) for batch in calibration.batches})
    figures = {"calibration_images_used": len(calibration.pixels), "calibration_iterations": iterations}
    expected = (config.input_tensor_size, config.input_tensor_size, 3)
    if not (shape == expected and iterations == config.iteration_count and sizes == [config.batch_size]):
        return Check(False, f"{p.name}: calibration decoded to {shape} in {iterations} batches of {sizes} images; "
                     f"expected {expected} in iteration_count {config.iteration_count} batches of batch_size "
                     f"{config.batch_size}", figures)
    return Check(bool(calibration.pixels.std() > 0), f"{p.name}: every calibration image decodes to the same "
                 "constant colour; check dataset_image_dir", figures)


def every_evaluation_image_was_evaluated(p: Pipeline, _=None) -> Check:
    """Every image found is either evaluated or reported as skipped, with its reason."""
    images = p.core["images"]
    found, used, skipped = len(p.job.evaluation_set.paths), images["used"], images["skipped"]
    unnamed = [entry for entry in skipped if not entry.get("file") or not entry.get("reason")]
    return Check(used > 0 and used + len(skipped) == found == images["found"] and not unnamed,
                 f"{p.name}: {found} evaluation images found, {used} evaluated, {len(skipped)} skipped "
                 f"({len(unnamed)} without a file or reason); {found - used - len(skipped)} are unaccounted for",
                 {"images_found": found, "images_used": used, "images_skipped": len(skipped)})


# --- the exported files --------------------------------------------------------------------------------------


def _exports(p: Pipeline) -> list[str]:
    """The files the spec's flow writes to output_dir: the float export (model.tflite) and the quantized file."""
    return [model.file for model in p.framework.models if model.role in ("float_export", "quantized") and model.file]


def file_written_to_output_dir(p: Pipeline, name: str) -> Check:
    exported = p.reference_files[BY_FILE[name].key]
    output_dir = p.config.output_dir
    size = exported.stat().st_size if exported.is_file() else 0
    return Check(exported.parent == output_dir and size > 0,
                 f"{p.name}: {shown(exported)} is {'empty or missing' if not size else 'not in output_dir'} "
                 f"({shown(output_dir)})", {"file": str(exported), "size_bytes": size})


# --- Top-1 of the quantized models (the float export's, and MCT's model's check by name: each framework's) -----


# --- the float model: does this evaluation give it the Top-1 it can have? ----------------------------------------


def _screen_hint(p: Pipeline) -> str:
    return p.section_hint("screen") if p.has_section("screen") else ""


def _float_figures(p: Pipeline) -> tuple:
    """The float model, its results entry, and the figures every float check records."""
    model = p.framework.models[0]
    entry, document = p.core["models"][model.key], p.core
    low, high = entry["top_1_interval"]
    return model, entry, {"top_1_accuracy": entry["top_1_accuracy"], "top_1_interval_low": low,
                          "top_1_interval_high": high, "chance": 1.0 / document["num_classes"],
                          "num_images": document["num_images"]}


def float_model_beats_chance(p: Pipeline, _=None) -> Check:
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


def float_top1_meets_expected(p: Pipeline, _=None) -> Check:
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


def drops_are_meaningful(p: Pipeline, _=None) -> Check:
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


CORE_CHECKS = (
    CheckSpec("schema_valid", schema_valid),
    CheckSpec("path_is_not_a_symlink", path_is_not_a_symlink, lambda p: list(p.config.path_keys)),
    CheckSpec("batch_size_within_calibration_images", batch_size_within_calibration_images),
    CheckSpec("input_tensor_size_matches_model", input_tensor_size_matches_model),
    CheckSpec("labels_are_ids_zero_to_n_minus_one", labels_are_ids_zero_to_n_minus_one),
    CheckSpec("every_class_folder_has_a_label_and_images", every_class_folder_has_a_label_and_images),
    CheckSpec("labels_match_model_outputs", labels_match_model_outputs),
    CheckSpec("calibration_images_decode", calibration_images_decode),
    CheckSpec("every_evaluation_image_was_evaluated", every_evaluation_image_was_evaluated, whole_run=True),
    CheckSpec("file_written_to_output_dir", file_written_to_output_dir, _exports),
    CheckSpec(QUANTIZED_DROP_CHECK, quantized(0), whole_run=True),
    CheckSpec("quantized_top1_above_minimum", quantized(2), whole_run=True),
    CheckSpec("float_model_beats_chance", float_model_beats_chance, whole_run=True),
    CheckSpec(DROPS_MEANINGFUL_CHECK, drops_are_meaningful, whole_run=True),
    CheckSpec("float_top1_meets_expected", float_top1_meets_expected, whole_run=True,
              applies=lambda p: p.config.expected_top1 is not None),
)
