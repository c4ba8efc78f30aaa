"""Everything checked before heavy work starts: configuration, calibration files, evaluation set.

A Job is what the pytest plugin keeps per --config; building one never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vsq.config import Config, load_config
from vsq.datasets import EvaluationSet, scan_calibration, scan_evaluation


@dataclass(frozen=True)
class Job:
    config: Config
    calibration_images: tuple[Path, ...]
    evaluation: EvaluationSet

    @property
    def name(self) -> str:
        return self.config.name


def prepare(path: str | os.PathLike) -> Job:
    """Load and check one configuration and its data; raise ConfigError on any problem."""
    config = load_config(path)
    return Job(config=config, calibration_images=scan_calibration(config), evaluation=scan_evaluation(config))
