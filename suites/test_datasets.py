"""The calibration folder and the ImageNet-style evaluation folder with labels.json."""

import json

import numpy as np


def test_labels_are_ids_zero_to_n_minus_one(vsq_job, record_property):
    labels = json.loads(vsq_job.config.evaluate_label_file.read_text(encoding="utf-8-sig"))
    ids = sorted(labels.values())
    record_property("num_labels", len(labels))
    numbered = ids == list(range(len(labels)))
    assert numbered, (
        f"{vsq_job.name}: {vsq_job.config.evaluate_label_file.name} ids are {ids[:10]}, not 0..{len(labels) - 1}; "
        "renumber them")


def test_every_class_folder_has_a_label_and_images(vsq_job, record_property):
    names = vsq_job.evaluation_set.class_names
    counts = np.bincount(np.asarray(vsq_job.evaluation_set.labels), minlength=len(names))
    record_property("images_per_class", json.dumps(dict(zip(names, counts.tolist()))))
    folders = sorted(p.name for p in vsq_job.config.evaluate_image_dir.iterdir() if p.is_dir())
    unmatched = sorted(set(folders) ^ set(names))
    empty = [name for name, count in zip(names, counts) if count == 0]
    matched = not unmatched and not empty
    assert matched, (
        f"{vsq_job.name}: class folders and labels.json differ on {unmatched[:5]}, classes without images: "
        f"{empty[:5]}; every label needs one folder of images")


def test_labels_match_model_outputs(vsq_job, model_info, record_property):
    outputs, classes = model_info.num_outputs, vsq_job.evaluation_set.num_classes
    record_property("model_outputs", outputs)
    record_property("num_classes", classes)
    matches = outputs == classes
    assert matches, (
        f"{vsq_job.name}: the model has {outputs} outputs but labels.json {classes} classes; list one class per output")


def test_calibration_images_decode(vsq_job, calibration, record_property):
    config = vsq_job.config
    shape, iterations = calibration.pixels.shape[1:], len(calibration.batches)
    sizes = sorted({len(batch) for batch in calibration.batches})
    record_property("calibration_images_used", len(calibration.pixels))
    record_property("calibration_iterations", iterations)
    expected = (config.input_tensor_size, config.input_tensor_size, 3)
    as_configured = shape == expected and iterations == config.iteration_count and sizes == [config.batch_size]
    assert as_configured, (
        f"{vsq_job.name}: calibration decoded to {shape} in {iterations} batches of {sizes} images; expected "
        f"{expected} in iteration_count {config.iteration_count} batches of batch_size {config.batch_size}")
    varied = bool(calibration.pixels.std() > 0)
    assert varied, (
        f"{vsq_job.name}: every calibration image decodes to the same constant colour; check dataset_image_dir")


def test_every_evaluation_image_was_evaluated(vsq_job, results, record_property):
    """Every image found is either evaluated or reported as skipped, with its reason."""
    images = results["images"]
    found, used, skipped = len(vsq_job.evaluation_set.paths), images["used"], images["skipped"]
    unnamed = [entry for entry in skipped if not entry.get("file") or not entry.get("reason")]
    record_property("images_found", found)
    record_property("images_used", used)
    record_property("images_skipped", len(skipped))
    accounted = used > 0 and used + len(skipped) == found == images["found"] and not unnamed
    assert accounted, (
        f"{vsq_job.name}: {found} evaluation images found, {used} evaluated, {len(skipped)} skipped "
        f"({len(unnamed)} without a file or reason); {found - used - len(skipped)} are unaccounted for")
