"""Test-only conftest: tests/test_suite_messages.py copies it into a harness copy's suites/ folder.

It feeds every check of the suites a wrong value (a job whose files and settings were spoiled after
they were checked, fixtures overridden with wrong figures), so that each check fails and the
message it gives can be read. Never part of a real run.
"""

import copy
import dataclasses
import json
import shutil

import numpy as np
import pytest

from vsq.data.calibration import Calibration
from fixtures.session import vsq_session
from vsq.frameworks.keras.models import ModelInfo


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    session = vsq_session(config)
    session.jobs[:] = [_spoiled(job) for job in session.jobs]


def _spoiled(job):
    config = job.config
    config.output_dir.mkdir(parents=True, exist_ok=True)
    link = config.output_dir.with_name("output-link")
    if not link.is_symlink():
        link.symlink_to(config.output_dir)
    labels = json.loads(config.evaluate_label_file.read_text())
    config.evaluate_label_file.write_text(json.dumps({**labels, max(labels, key=labels.get): len(labels) + 4}))
    (config.evaluate_image_dir / "purple").mkdir(exist_ok=True)
    spoiled = dataclasses.replace(config, output_dir=link, raw={**config.raw, "seed": "x"})
    return dataclasses.replace(job, config=spoiled, calibration_images=job.calibration_images[:1])


@pytest.fixture(scope="session")
def model_info(model_info):
    return ModelInfo(((None, 5, 5, 3),), ((None, 7),))


@pytest.fixture(scope="session")
def calibration(vsq_job):
    return Calibration(pixels=np.zeros((8, 16, 16, 3), np.uint8), batches=(np.arange(8),),
                       preprocessing=vsq_job.config.preprocessing)


@pytest.fixture(scope="session")
def float_tflite(float_tflite, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / float_tflite.name
    shutil.copyfile(float_tflite, elsewhere)
    return elsewhere


@pytest.fixture(scope="session")
def quantized_tflite(float_tflite):
    return float_tflite


@pytest.fixture(scope="session")
def results(results):
    spoiled = copy.deepcopy(results)
    spoiled["images"]["used"] -= 1
    spoiled["top_1_accuracy_tflite"] -= 0.1
    spoiled["top_1_accuracy_tflite_quantized"] = 0.2
    spoiled["top_1_accuracy_keras_quantized"] = 0.2
    for model in ("tflite_quantized", "keras_quantized"):
        _losing(spoiled["models"][model])
    for row in spoiled.get("variants", {}).get("models", {}).values():
        if "decision" in row:
            _losing(row)
    return spoiled


def _losing(model):
    """A model that lost 80 % of the images Keras got right: its Top-1, paired comparison and decision."""
    from vsq.configuration.config import Thresholds
    from vsq.pipeline.verdicts import decision
    from vsq.statistics.paired import compare_counts

    limit = model["decision"]["max_top1_drop"]
    model["top_1_accuracy"] = 0.2
    model["paired"]["keras"] = compare_counts(20, 80, 0, 0).as_dict()
    model["decision"] = decision(model["paired"]["keras"], limit, Thresholds())


@pytest.fixture(scope="session")
def variant_builds(variant_builds, float_tflite):
    return {name: dataclasses.replace(build, path=float_tflite) for name, build in variant_builds.items()}



@pytest.fixture(scope="session")
def imx500_conversion(imx500_conversion):
    log = imx500_conversion.result.log
    return dataclasses.replace(imx500_conversion, result=None, error=(
        "IMX500 converter failed while converting model_quantized.keras: exit code 3, no memory report: CODE: "
        f"[INVOP] The network is not aligned with SDSP converter's restrictions; converter log: {log}"))
