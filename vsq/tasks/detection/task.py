"""Object detection (vsq.tasks.base.Task): a COCO annotations file (evaluate_label_file) gives the truth of the
images in evaluate_image_dir; a model's outputs are the IMX500 post-processing's (boxes, scores, classes, count),
read by the configuration's detection.box_order, boxes_normalized and class_offset; mAP judges it (pycocotools),
with paired bootstrap intervals for the drops. docs/detection.md."""

from __future__ import annotations

from pathlib import Path

from vsq.configuration.datasets import EvaluationSet
from vsq.core.drop_figure import MAP
from vsq.tasks.detection import evaluation
from vsq.tasks.detection.checks import CHECKS
from vsq.tasks.detection.dataset import Truth, box_format, read_annotations, scan
from vsq.tasks.detection.dataset import truth as truth_of


class Detection:
    """vsq.tasks.base.Task for detectors ending in the IMX500's post-processing."""

    name = "detection"
    stored = evaluation.STORED

    checks = CHECKS
    drop_figure = MAP
    packages = ("edge_mdt_cl", "pycocotools")  # the post-processing's and the mAP's

    def evaluation_set(self, config) -> EvaluationSet:
        return scan(config)

    def evaluation_settings(self, config) -> dict:
        """Detections are stored decoded: by the box format, min_score, and the annotated image sizes the boxes
        are mapped to (the annotations file's digest, taken when it was read)."""
        form = box_format(config)
        return {"box_order": form.box_order, "boxes_normalized": form.normalized, "class_offset": form.class_offset,
                "resize": form.resize, "min_score": config.detection.min_score, "stored": evaluation.STORED_FORMAT,
                "annotations": read_annotations(config).digest}

    def truth(self, config, evaluation_set) -> Truth:
        """Made once per annotations read and evaluation set (vsq.tasks.detection.dataset.truth): callers must not
        change it."""
        return truth_of(config, evaluation_set.labels)

    def accumulator(self, name: str, truth: Truth, config, evaluation_set) -> evaluation.Running:
        return evaluation.Running(name, truth.images, config.input_tensor_size, box_format(config),
                                  config.detection.min_score)

    def save(self, result: evaluation.DetectionEvaluation, folder: Path) -> None:
        evaluation.save(result, folder)

    def load(self, folder: Path) -> evaluation.DetectionEvaluation:
        return evaluation.load(folder)

    def core(self, run, evaluations: dict) -> dict:
        from vsq.tasks.detection.core import core

        return core(run, evaluations, self.truth(run.config, run.job.evaluation_set))

    def write_records(self, run, document: dict) -> Path | None:
        return None  # the per-image changes are in results.json ("changes"); a detections file is left for later
