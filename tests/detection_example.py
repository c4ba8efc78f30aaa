"""The bundled detector built and evaluated through the detection task, once: for tests/test_detection_task.py and
benchmarks/detection_example.py (quantized(), MCT's detector, also for tests/test_detection_model.py). The float Keras model, MCT's fake-quant model, the INT8 TFLite network followed
by SSDPostProcess in float (vsq.frameworks.keras.detector), and a fake-quant model calibrated on black images (a
detector quantized badly on purpose), all run by the pipeline's evaluation loop (vsq.pipeline.evaluate)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from vsq.frameworks import for_config as framework_for
from vsq.pipeline.evaluate import evaluate_models
from vsq.pipeline.job import prepare
from vsq.tasks import TASKS

REFERENCES = ("keras", "tflite_quantized", "keras_quantized")


def quantized(config_path: Path) -> SimpleNamespace:
    """The example's job and float detector (loaded as a run loads it), its decoded calibration images and MCT's PTQ
    of the detector calibrated on them, as a run calibrates: the session's one MCT detector (tests/conftest.py's
    example_detector), and build()'s first steps. `seconds` of each step."""
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.quantize import ptq

    started = time.perf_counter()
    job = prepare(config_path)
    model = framework_for(job.config).load(job.config)  # prepare() checked the file (vsq.frameworks.keras.safety)
    calibration = decode_calibration(job)
    loaded = time.perf_counter()
    fake_quant = ptq(model, lambda: ([batch] for batch in calibration.iterate()), "imx500")
    seconds = {"prepare and load": loaded - started, "MCT PTQ": time.perf_counter() - loaded}
    return SimpleNamespace(job=job, config=job.config, model=model, calibration=calibration, fake_quant=fake_quant,
                           seconds=seconds)


def build(config_path: Path, folder: Path, detector: SimpleNamespace | None = None) -> SimpleNamespace:
    """A run as the detection task's checks read it (vsq.core.checks.Run's members they use), with `evaluations`
    of every model, `core` of the three reference models and `seconds` of each step; `detector`: quantized()'s
    result for the same configuration, when already made."""
    from vsq.frameworks.keras.detector import DetectorPredictor, export_network_int8_tflite
    from vsq.frameworks.keras.quantize import ptq

    detector = detector or quantized(config_path)
    job, config, model, calibration, fake_quant = (detector.job, detector.config, detector.model,
                                                   detector.calibration, detector.fake_quant)
    seconds, start = dict(detector.seconds), time.perf_counter()

    def lap(step: str) -> None:
        nonlocal start
        seconds[step], start = time.perf_counter() - start, time.perf_counter()

    tflite = export_network_int8_tflite(fake_quant, folder / "model_quantized.tflite")
    lap("INT8 TFLite export")
    black = ptq(model, lambda: ([np.zeros_like(batch)] for batch in calibration.iterate()), "imx500")
    predictors = {"keras": DetectorPredictor.keras(model), "keras_quantized": DetectorPredictor.keras(fake_quant),
                  "tflite_quantized": DetectorPredictor.tflite(tflite, fake_quant), "black": DetectorPredictor.keras(black)}
    lap("black-calibrated PTQ")
    task = TASKS["detection"]
    evaluations = evaluate_models(predictors, config, job.evaluation_set, task=task)
    lap("evaluation of 4 models")
    run = SimpleNamespace(name=config.name, config=config, job=job, framework=framework_for(config), task=task,
                          model=model, evaluations=evaluations, folder=folder, seconds=seconds)
    run.core = task.core(run, {key: evaluations[key] for key in REFERENCES})
    lap("document (mAP, bootstrap, chance, changes)")
    return run
