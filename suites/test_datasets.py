"""The calibration folder and the ImageNet-style evaluation folder with labels.json."""

import json

import numpy as np


def test_labels_are_ids_zero_to_n_minus_one(vsq_job, record_property):
    labels = json.loads(vsq_job.config.evaluate_label_file.read_text(encoding="utf-8-sig"))
    record_property("num_labels", len(labels))
    assert sorted(labels.values()) == list(range(len(labels)))


def test_every_class_folder_has_a_label_and_images(vsq_job, record_property):
    evaluation = vsq_job.evaluation
    counts = np.bincount(np.asarray(evaluation.labels), minlength=evaluation.num_classes)
    record_property("images_per_class", json.dumps(dict(zip(evaluation.class_names, counts.tolist()))))
    folders = sorted(p.name for p in vsq_job.config.evaluate_image_dir.iterdir() if p.is_dir())
    assert folders == sorted(evaluation.class_names)
    assert counts.min() >= 1


def test_labels_match_model_outputs(vsq_job, model_info, record_property):
    outputs = model_info.num_outputs
    record_property("model_outputs", outputs)
    record_property("num_classes", vsq_job.evaluation.num_classes)
    assert outputs == vsq_job.evaluation.num_classes


def test_calibration_images_decode(vsq_job, calibration, record_property):
    size = vsq_job.config.input_tensor_size
    record_property("calibration_images_used", len(calibration.pixels))
    record_property("calibration_iterations", len(calibration.batches))
    assert calibration.pixels.shape[1:] == (size, size, 3)
    assert len(calibration.batches) == vsq_job.config.iteration_count
    assert all(len(batch) == vsq_job.config.batch_size for batch in calibration.batches)
    assert calibration.pixels.std() > 0, "every calibration image decodes to the same constant colour"


def test_every_evaluation_image_was_evaluated(vsq_job, evaluation, record_property):
    record_property("num_images", evaluation["num_images"])
    assert evaluation["num_images"] == len(vsq_job.evaluation.paths) > 0
