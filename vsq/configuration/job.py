"""Everything checked before heavy work starts: configuration, calibration files, evaluation set.

A Job is what the pytest plugin keeps per --config; building one never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vsq.configuration.config import Config, load_config
from vsq.configuration.datasets import EvaluationSet, scan_calibration, scan_evaluation
from vsq.errors import ConfigError
from vsq.frameworks import for_config


@dataclass(frozen=True)
class Job:
    config: Config
    calibration_images: tuple[Path, ...]
    evaluation_set: EvaluationSet
    imx500_converter: Path | None = None  # found and checked when the configuration has an imx500 section

    @property
    def name(self) -> str:
        return self.config.name


def prepare(path: str | os.PathLike) -> Job:
    """Load and check one configuration and its data; raise ConfigError on any problem."""
    config = load_config(path)
    for_config(config).check_source(config)
    return Job(config=config, calibration_images=scan_calibration(config), evaluation_set=scan_evaluation(config),
               imx500_converter=imx500_converter(config))


def prepare_all(paths: list) -> list[Job]:
    """Every configuration of a run, prepared; two with the same name are refused (they would share ids)."""
    jobs = [prepare(path) for path in paths]
    names = [job.name for job in jobs]
    for job in jobs:
        if names.count(job.name) > 1:
            raise ConfigError(job.config.file, None, f"two configurations are named {job.name!r}; give each a "
                              "distinct \"name\" key or file name")
    return jobs


def imx500_converter(config: Config) -> Path | None:
    """The IMX500 converter a configuration asks for, checked with Java before any heavy work; None when off."""
    if config.imx500 is None:
        return None
    from vsq.tools import imx500

    configured, executable = config.imx500.converter, for_config(config).converter
    if configured is not None and not (configured.is_file() and os.access(configured, os.X_OK)):
        raise config.error("imx500.converter", f"{configured} is not an executable file; correct the path, or remove "
                           f"imx500.converter to use {imx500.VENV}/bin/{executable} (made by "
                           f"{imx500.SETUP_COMMAND})")
    converter = imx500.find_converter(configured, imx500.PROJECT_ROOT, executable)
    problem = imx500.missing_requirements(converter, executable)
    if problem:
        raise config.error("imx500", problem)
    return converter
