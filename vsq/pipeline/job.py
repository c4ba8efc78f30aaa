"""Everything checked before heavy work starts: configuration, calibration files, evaluation set.

A Job is what the pytest plugin keeps per --config; building one never imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vsq.configuration.config import Config, load_config
from vsq.configuration.datasets import EvaluationSet, scan_calibration
from vsq.configuration.grants import Grants
from vsq.errors import ConfigError
from vsq.frameworks import for_config
from vsq.pipeline.given import check_given
from vsq.tasks import for_config as task_for


@dataclass(frozen=True)
class Job:
    config: Config
    calibration_images: tuple[Path, ...]
    evaluation_set: EvaluationSet
    imx500_converter: Path | None = None  # found and checked when the configuration has an imx500 section
    given: tuple = ()  # model files the configuration gives (vsq.configuration.given.GivenFile), checked

    @property
    def name(self) -> str:
        return self.config.name


def prepare(path: str | os.PathLike, grants: Grants = Grants(), data: dict | None = None) -> Job:
    """Load and check one configuration and its data, with what the run grants it (vsq.configuration.grants);
    raise ConfigError on any problem, a request without its grant included. data: the configuration as a dict
    (vsq.run), read as if the file `path` held it."""
    config = grants.apply(load_config(path, data))
    for_config(config).check_source(config)
    check_runtimes(config)
    given = check_given(config)  # before the images: a given file's contract is one line too
    return Job(config=config, calibration_images=scan_calibration(config), evaluation_set=task_for(config).evaluation_set(config),
               imx500_converter=imx500_converter(config, grants), given=given)


def prepare_all(paths: list, grants: Grants = Grants()) -> list[Job]:
    """Every configuration of a run, prepared; two with the same name are refused (they would share ids), and so
    is a grant naming no configuration of the run."""
    jobs = [prepare(path, grants) for path in paths]
    names = [job.name for job in jobs]
    for job in jobs:
        if names.count(job.name) > 1:
            raise ConfigError(job.config.file, None, f"two configurations are named {job.name!r}; give each a "
                              "distinct \"name\" key or file name")
    grants.check_names(names)
    return jobs


def check_runtimes(config: Config) -> None:
    """Every variant's converter and runtime is installed (looked up, not imported); ConfigError naming the
    first variant that lacks one, with the command that installs it."""
    from vsq.runtimes.kinds import install_command, missing_modules

    for variant in config.variants:
        missing = missing_modules(variant.kind)
        if missing:
            raise config.error("variants", f"variant {variant.name} ({variant.kind}) needs {', '.join(missing)}, "
                               f"which {'is' if len(missing) == 1 else 'are'} not installed; install with "
                               f"`{install_command(variant.kind)}` from vsq's folder, or remove the variant")


def imx500_converter(config: Config, grants: Grants = Grants()) -> Path | None:
    """The IMX500 converter of a configuration with an imx500 section (granted, else the checkout's or PATH's),
    checked with Java before any heavy work; None when the section is off."""
    if config.imx500 is None:
        return None
    from vsq.tools import imx500

    executable = for_config(config).converter  # imxconv-tf for Keras files, imxconv-pt for ONNX files
    granted = grants.imx500_converter_for(config, executable)
    if granted is not None:
        problem = imx500.not_runnable(granted, executable)
        if problem:
            raise config.error("imx500", f"{grants.imx500_converter_origin} {granted}: {problem}")
    converter = granted or imx500.find_converter(None, imx500.PROJECT_ROOT, executable)
    problem = imx500.missing_requirements(converter, executable)
    if problem:
        raise config.error("imx500", problem)
    return converter
