"""Image classification: labels.json and one class folder per label give the truth; a model's outputs are class
scores; Top-1 (and Top-5) judge it. The task vsq had before tasks were a seam; detection is the second one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vsq.core.drop_figure import TOP_1
from vsq.tasks.classification import evaluation
from vsq.tasks.classification.checks import CHECKS


class Classification:
    """vsq.tasks.base.Task for image classifiers."""

    name = "classification"
    stored = evaluation.STORED
    checks = CHECKS
    drop_figure = TOP_1
    packages = ()

    def evaluation_set(self, config):
        """labels.json and the class folders of evaluate_image_dir (vsq.configuration.datasets.scan_evaluation)."""
        from vsq.configuration.datasets import scan_evaluation

        return scan_evaluation(config)

    def evaluation_settings(self, config) -> dict:
        return {}  # class scores are stored as the model gives them (its cache keys are those of before tasks)

    def truth(self, config, evaluation_set) -> np.ndarray:
        """The class id of every evaluation image (its folder's id in labels.json, read at prepare)."""
        return np.asarray(evaluation_set.labels)

    def accumulator(self, name: str, truth, config, evaluation_set) -> evaluation.Running:
        return evaluation.Running(name, truth, evaluation_set.num_classes)

    def save(self, result: evaluation.ModelEvaluation, folder: Path) -> None:
        evaluation.save(result, folder)

    def load(self, folder: Path) -> evaluation.ModelEvaluation:
        return evaluation.load(folder)

    def core(self, run, evaluations: dict) -> dict:
        from vsq.tasks.classification.document import core

        return core(run, evaluations)

    def write_records(self, run, document: dict) -> Path:
        """predictions.csv beside results.json: every model's class and score per image."""
        from vsq.tasks.classification.predictions import write_for

        return write_for(run, document)
