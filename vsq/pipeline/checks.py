"""The checks of every configuration, whatever its task: the configuration itself, the calibration images, the
evaluation images' accounting and the exported files (the task's own checks: vsq.tasks). Each is a function of the pipeline that returns a Check: the one sentence a failing test says (it
names the configuration and its figures) and the figures its test records. suites/ assert them by name.
"""

from __future__ import annotations

from vsq.configuration.config import schema
from vsq.core.checks import Run
from vsq.core.reference import BY_FILE
from vsq.core.verdicts import Check, CheckSpec
from vsq.util.paths import shown

# --- the configuration -------------------------------------------------------------------------------------


def schema_valid(p: Run, _=None) -> Check:
    import jsonschema

    errors = [error.message for error in jsonschema.Draft202012Validator(schema()).iter_errors(p.config.raw)]
    return Check(not errors, f"{p.name}: {len(errors)} schema errors in {p.config.file.name}: {errors[:2]}",
                 {"schema_errors": len(errors)})


def path_is_not_a_symlink(p: Run, key: str) -> Check:
    path = getattr(p.config, key)
    return Check(not path.is_symlink(), f"{p.name}: {key}: {shown(path)} is a symbolic link; point at the real path",
                 {key: str(path)})


def batch_size_within_calibration_images(p: Run, _=None) -> Check:
    batch, images = p.config.batch_size, len(p.job.calibration_images)
    return Check(1 <= batch <= images,
                 f"{p.name}: batch_size {batch} is not within 1..{images} (the calibration images); lower it",
                 {"batch_size": batch, "calibration_images": images})


def input_tensor_size_matches_model(p: Run, _=None) -> Check:
    shape, size = tuple(p.model_info.input_shapes[0]), p.config.input_tensor_size
    return Check(shape[1:] in ((size, size, 3), (None, None, 3)),
                 f"{p.name}: input_tensor_size {size} does not match the model's input {shape}",
                 {"input_tensor_size": size, "model_input_shape": str(shape)})


# --- the data ------------------------------------------------------------------------------------------------


def calibration_images_decode(p: Run, _=None) -> Check:
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


def every_evaluation_image_was_evaluated(p: Run, _=None) -> Check:
    """Every image found is either evaluated or reported as skipped, with its reason."""
    images = p.core["images"]
    found, used, skipped = len(p.job.evaluation_set.paths), images["used"], images["skipped"]
    unnamed = [entry for entry in skipped if not entry.get("file") or not entry.get("reason")]
    return Check(used > 0 and used + len(skipped) == found == images["found"] and not unnamed,
                 f"{p.name}: {found} evaluation images found, {used} evaluated, {len(skipped)} skipped "
                 f"({len(unnamed)} without a file or reason); {found - used - len(skipped)} are unaccounted for",
                 {"images_found": found, "images_used": used, "images_skipped": len(skipped)})


# --- the exported files --------------------------------------------------------------------------------------


def _exports(p: Run) -> list[str]:
    """The files the spec's flow writes to output_dir: the float export (model.tflite) and the quantized file."""
    return [model.file for model in p.framework.models if model.role in ("float_export", "quantized") and model.file]


def file_written_to_output_dir(p: Run, name: str) -> Check:
    exported = p.reference_files[BY_FILE[name].key]
    output_dir = p.config.output_dir
    size = exported.stat().st_size if exported.is_file() else 0
    return Check(exported.parent == output_dir and size > 0,
                 f"{p.name}: {shown(exported)} is {'empty or missing' if not size else 'not in output_dir'} "
                 f"({shown(output_dir)})", {"file": str(exported), "size_bytes": size})


CORE_CHECKS = (
    CheckSpec("schema_valid", schema_valid),
    CheckSpec("path_is_not_a_symlink", path_is_not_a_symlink, lambda p: list(p.config.path_keys)),
    CheckSpec("batch_size_within_calibration_images", batch_size_within_calibration_images),
    CheckSpec("input_tensor_size_matches_model", input_tensor_size_matches_model),
    CheckSpec("calibration_images_decode", calibration_images_decode),
    CheckSpec("every_evaluation_image_was_evaluated", every_evaluation_image_was_evaluated, whole_run=True),
    CheckSpec("file_written_to_output_dir", file_written_to_output_dir, _exports),
)
