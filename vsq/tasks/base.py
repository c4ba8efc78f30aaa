"""What a task is to the pipeline: the seam between "run every model on the evaluation images" (the pipeline's,
the same for every task) and "what a right answer is and how good the answers were" (the task's).

A task (classification today; detection next) reads the truth of the evaluation images, gathers each model's
per-image outputs in an accumulator while the pipeline streams decoded chunks through the models, stores and
loads the finished evaluation in the cache, turns the evaluations into its part of the results document
(figures, paired statistics, the per-image record), writes its per-image file beside results.json, and brings
the checks that judge those figures. Tasks register in vsq.tasks.TASKS; the configuration's "task" names one.
The pipeline never reads a task's figures itself: sections and checks do, through the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class Evaluation(Protocol):
    """One model's finished evaluation: what the pipeline itself reads of it (the rest is the task's)."""

    name: str
    seconds: float  # inference time only, decode excluded
    skipped: tuple  # (path, reason) of images that could not be decoded and were left out
    modes: dict  # Pillow mode of the files -> count

    @property
    def images_used(self) -> int:
        """How many images the model was evaluated on."""


class Accumulator(Protocol):
    """One model's evaluation while it runs: fed chunk by chunk, finished once."""

    def add(self, outputs, indices: np.ndarray) -> None:
        """The model's raw outputs for one chunk of images (indices: their positions in the evaluation set)."""

    def finish(self, seconds: float, skipped: tuple, modes: dict) -> Evaluation:
        """The evaluation of every chunk added."""


class Task(Protocol):
    """A kind of model output and how it is judged. vsq.tasks.classification.Classification implements it."""

    name: str  # the configuration's "task" value
    stored: tuple[str, ...]  # the files of an evaluation's cache entry (save writes them, load reads them)
    checks: tuple  # vsq.core.verdicts.CheckSpec of the task's own checks (data, figures, drops)
    drop_figure: object  # vsq.core.drop_figure.DropFigure: the figure its drop charts show
    # Packages its figures depend on besides the stack (vsq.util.versions.TASK_DISTRIBUTIONS): their versions are in
    # the cache keys and results.json's environment of this task's runs only
    packages: tuple[str, ...]

    def evaluation_set(self, config):
        """The evaluation images and their truth's keys (vsq.configuration.datasets.EvaluationSet), checked at
        prepare time, before anything heavy: ConfigError on any problem."""

    def evaluation_settings(self, config) -> dict:
        """What a stored evaluation depends on besides the model file, the images, the preprocessing and the
        runtime (part of its cache key): how the outputs are read and the truth they are mapped with."""

    def truth(self, config, evaluation_set):
        """The truth of the evaluation images, in the order of evaluation_set.paths (read once per evaluation)."""

    def accumulator(self, name: str, truth, config, evaluation_set) -> Accumulator:
        """A fresh accumulator for the model called name."""

    def save(self, evaluation: Evaluation, folder: Path) -> None:
        """Store an evaluation in a cache entry being built (the files of `stored`)."""

    def load(self, folder: Path) -> Evaluation:
        """An evaluation stored by save."""

    def core(self, run, evaluations: dict) -> dict:
        """The task's keys of the document's core (vsq.pipeline.document.build_core adds the task-independent
        ones): per-model figures under "models", the spec's keys, paired statistics, the per-image record.
        run: vsq.core.checks.Run; evaluations: model name -> Evaluation, the reference models first."""

    def write_records(self, run, document: dict) -> Path | None:
        """The per-image file beside results.json (classification: predictions.csv), or None."""
