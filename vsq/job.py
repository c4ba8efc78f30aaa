"""Everything checked before heavy work starts: configuration, calibration files, evaluation set.

A Job is what the pytest plugin keeps per --config; building one never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vsq.config import Config, load_config
from vsq.datasets import EvaluationSet, scan_calibration, scan_evaluation
from vsq.model_safety import unsafe_layers


@dataclass(frozen=True)
class Job:
    config: Config
    calibration_images: tuple[Path, ...]
    evaluation_set: EvaluationSet

    @property
    def name(self) -> str:
        return self.config.name


def prepare(path: str | os.PathLike) -> Job:
    """Load and check one configuration and its data; raise ConfigError on any problem."""
    config = load_config(path)
    refuse_unsafe_model(config)
    return Job(config=config, calibration_images=scan_calibration(config), evaluation_set=scan_evaluation(config))


def refuse_unsafe_model(config: Config) -> None:
    """A model that runs stored Python code when loaded is refused unless the user opted in."""
    if config.allow_unsafe_model_code:
        return
    layers = unsafe_layers(config.source_keras_model)
    if layers:
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} has layers that run "
                           f"stored Python code when loaded: {', '.join(layers[:3])}; loading arbitrary code is "
                           "refused by default. If you trust this file, set \"allow_unsafe_model_code\": true, or "
                           "save the model without Lambda layers")
