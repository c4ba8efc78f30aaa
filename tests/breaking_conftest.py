"""Test-only conftest: tests/test_suite_messages.py copies it into a harness copy's suites/ folder.

It spoils only what no real input can reach (issue 37): each spoiled value says, in one line, why. The checks
behind prepare()'s refusal (exit 4: tested as that refusal) get files and settings spoiled after prepare()
accepted them; two branches no user file reaches get a figure overwritten. Every other check fails on a real
wrong input (tests/test_checks_fail_for_real.py's table says where). Never part of a real run.
"""

import copy
import dataclasses
import json
import shutil
import tempfile
from functools import cached_property
from pathlib import Path

import pytest

from vsq.pytest_plugin.session import vsq_session
from vsq.frameworks.keras.models import ModelInfo
from vsq.pipeline.pipeline import Pipeline


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    session = vsq_session(config)
    accepted = list(session.jobs)
    session.jobs[:] = [_spoiled(job) for job in accepted]
    for job, real in zip(session.jobs, accepted):
        session.pipelines[job.name] = SpoiledPipeline(job, session.options, real)


def _spoiled(job):
    config = job.config
    config.output_dir.mkdir(parents=True, exist_ok=True)
    link = config.output_dir.with_name("output-link")  # path_is_not_a_symlink: prepare() refuses a linked path
    if not link.is_symlink():
        link.symlink_to(config.output_dir)
    labels = json.loads(config.evaluate_label_file.read_text())  # labels_are_ids_zero_to_n_minus_one: refused
    config.evaluate_label_file.write_text(json.dumps({**labels, max(labels, key=labels.get): len(labels) + 4}))
    (config.evaluate_image_dir / "purple").mkdir(exist_ok=True)  # every_class_folder_has_a_label_and_images: refused
    spoiled = dataclasses.replace(config, output_dir=link, raw={**config.raw, "seed": "x"})  # schema_valid: refused
    # batch_size_within_calibration_images: prepare() refuses fewer calibration images than batch_size
    return dataclasses.replace(job, config=spoiled, calibration_images=job.calibration_images[:1])


class SpoiledPipeline(Pipeline):
    def __init__(self, job, options, accepted):
        super().__init__(job, options)
        self.accepted = accepted  # the job prepare() accepted: what the models are built and evaluated from

    @cached_property
    def calibration(self):  # from the calibration images prepare() accepted, not the one left after spoiling
        from vsq.data.calibration import decode_calibration

        return decode_calibration(self.accepted)

    @cached_property
    def model_info(self):  # input_tensor_size_matches_model, labels_match_model_outputs: prepare() refuses them
        return ModelInfo(((None, 5, 5, 3),), ((None, 7),))

    @cached_property
    def float_file(self):  # file_written_to_output_dir: vsq writes the exports itself, into the output_dir checked
        real = Pipeline.float_file.func(self)
        elsewhere = Path(tempfile.mkdtemp()) / real.name
        shutil.copyfile(real, elsewhere)
        return elsewhere

    @cached_property
    def core(self):
        spoiled = copy.deepcopy(Pipeline.core.func(self))
        # every_evaluation_image_was_evaluated: an image is evaluated, stops the run (exit 4) or is skipped with why
        spoiled["images"]["used"] -= 1
        # float_tflite_agrees_with_keras: TFLite's float conversion of a model Keras loads computes its function
        spoiled["top_1_accuracy_tflite"] -= 0.1
        return spoiled
