"""Test-only conftest: tests/test_suite_messages.py copies it into a harness copy's suites/ folder.

It feeds every check of the suites a wrong value (a job whose files and settings were spoiled after
they were checked, a pipeline whose steps give wrong figures), so that each check fails and the
message it gives can be read. Never part of a real run.
"""

import copy
import dataclasses
import json
import shutil
import tempfile
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest

from vsq.pytest_plugin.session import vsq_session
from vsq.configuration.config import ExpectedTop1
from vsq.data.calibration import Calibration
from vsq.frameworks.keras.models import ModelInfo
from vsq.pipeline.pipeline import Pipeline
from vsq.sections.imx500 import Conversion


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    session = vsq_session(config)
    session.jobs[:] = [_spoiled(job) for job in session.jobs]
    for job in session.jobs:
        session.pipelines[job.name] = SpoiledPipeline(job, session.options)


def _spoiled(job):
    config = job.config
    config.output_dir.mkdir(parents=True, exist_ok=True)
    link = config.output_dir.with_name("output-link")
    if not link.is_symlink():
        link.symlink_to(config.output_dir)
    labels = json.loads(config.evaluate_label_file.read_text())
    config.evaluate_label_file.write_text(json.dumps({**labels, max(labels, key=labels.get): len(labels) + 4}))
    (config.evaluate_image_dir / "purple").mkdir(exist_ok=True)
    spoiled = dataclasses.replace(config, output_dir=link, raw={**config.raw, "seed": "x"},
                                  expected_top1=ExpectedTop1(top1=0.9))
    return dataclasses.replace(job, config=spoiled, calibration_images=job.calibration_images[:1])


class SpoiledPipeline(Pipeline):
    @cached_property
    def model_info(self):
        return ModelInfo(((None, 5, 5, 3),), ((None, 7),))

    @cached_property
    def calibration(self):
        return Calibration(pixels=np.zeros((8, 16, 16, 3), np.uint8), batches=(np.arange(8),),
                           preprocessing=self.config.preprocessing)

    @cached_property
    def float_file(self):
        real = Pipeline.float_file.func(self)
        elsewhere = Path(tempfile.mkdtemp()) / real.name
        shutil.copyfile(real, elsewhere)
        return elsewhere

    @cached_property
    def reference_files(self):
        files = dict(Pipeline.reference_files.func(self))
        files["tflite_quantized"] = files["tflite"]
        return files

    @cached_property
    def core(self):
        spoiled = copy.deepcopy(Pipeline.core.func(self))
        spoiled["images"]["used"] -= 1
        spoiled["top_1_accuracy_tflite"] -= 0.1
        spoiled["top_1_accuracy_tflite_quantized"] = 0.2
        spoiled["top_1_accuracy_keras_quantized"] = 0.2
        for model in ("tflite_quantized", "keras_quantized"):
            _losing(spoiled["models"][model])
        # Near chance (three classes need 0.4333) and far below expected_top1.
        spoiled["models"]["keras"].update(top_1_accuracy=0.3, top_1_interval=[0.2, 0.4])
        spoiled["top_1_accuracy_keras"] = 0.3
        return spoiled

    def part(self, key):
        if key == "screen" and key not in self._parts:  # BGR and labels.json shifted score better
            self._parts[key] = copy.deepcopy(Pipeline.part(self, key))
            self._parts[key]["found"] = {"changes": {"channel_order": "BGR", "labels": "ids + 1"},
                                         "top_1_accuracy": 1.0, "gain_points": 66.7, "p_value": 1e-9,
                                         "labels_json": {"blue": 1, "green": 2, "red": 0}}
        if key == "variants" and key not in self._parts:
            self._parts[key] = copy.deepcopy(Pipeline.part(self, key))
            for row in self._parts[key]["models"].values():
                if "decision" in row:
                    _losing(row)
        return Pipeline.part(self, key)

    def once(self, key, make):
        if key == "imx500":
            log = self.config.output_dir / "imx500_converter.log"
            return Conversion(None, "IMX500 converter failed while converting model_quantized.keras: exit code 3, no "
                              "memory report: CODE: [INVOP] The network is not aligned with SDSP converter's "
                              f"restrictions; converter log: {log}", "failed")
        if key == "variant builds":
            builds = Pipeline.once(self, key, make)
            return {name: dataclasses.replace(made, path=self.float_file) for name, made in builds.items()}
        return Pipeline.once(self, key, make)


def _losing(model):
    """A model that lost 80 % of the images Keras got right: its Top-1, paired comparison and decision."""
    from vsq.configuration.config import Thresholds
    from vsq.core.verdicts import decision
    from vsq.statistics.paired import compare_counts

    limit = model["decision"]["max_top1_drop"]
    model["top_1_accuracy"] = 0.2
    model["paired"]["keras"] = compare_counts(20, 80, 0, 0).as_dict()
    model["decision"] = decision(model["paired"]["keras"], limit, Thresholds())
