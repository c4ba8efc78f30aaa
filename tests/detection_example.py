"""The bundled detector built and evaluated through the detection task, once: for tests/test_detection_task.py and
benchmarks/detection_example.py. The float Keras model, MCT's fake-quant model, the INT8 TFLite network followed
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


def build(config_path: Path, folder: Path) -> SimpleNamespace:
    """A run as the detection task's checks read it (vsq.core.checks.Run's members they use), with `evaluations`
    of every model, `core` of the three reference models and `seconds` of each step."""
    from vsq.data.calibration import decode_calibration
    from vsq.frameworks.keras.detector import DetectorPredictor, export_network_int8_tflite
    from vsq.frameworks.keras.quantize import ptq

    seconds, start = {}, time.perf_counter()

    def lap(step: str) -> None:
        nonlocal start
        seconds[step], start = time.perf_counter() - start, time.perf_counter()

    job = prepare(config_path)
    config = job.config
    model = framework_for(config).load(config)  # prepare() checked the file (vsq.frameworks.keras.safety)
    calibration = decode_calibration(job)
    lap("prepare and load")
    fake_quant = ptq(model, lambda: ([batch] for batch in calibration.iterate()), "imx500")
    lap("MCT PTQ")
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
