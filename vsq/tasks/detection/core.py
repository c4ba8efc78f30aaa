"""Detection's keys of the results document's core (vsq.tasks.detection.document on the run's evaluations)."""

from __future__ import annotations

from vsq.core.reference import roles
from vsq.tasks.detection import document as detection_document


def settings(config) -> detection_document.Settings:
    return detection_document.Settings(resamples=config.detection.bootstrap_resamples, seed=config.seed,
                                       confidence=config.thresholds.confidence, min_score=config.detection.min_score)


def core(run, evaluations: dict, truth) -> dict:
    """run: vsq.core.checks.Run; evaluations: DetectionEvaluation per model (the reference models first); truth:
    vsq.tasks.detection.task.Truth. Figures on the images the float model ran on (an unreadable image skipped)."""
    framework = run.framework
    keys = roles(framework.models)
    references = {model.key: evaluations[model.key] for model in framework.models if model.key in evaluations}
    coco = truth.restricted(references[keys["float"]].image_ids).coco
    out = detection_document.build(coco, {key: result.detections for key, result in references.items()},
                                   keys["float"], keys["quantized"], settings(run.config))
    for key, result in references.items():
        out["models"][key]["evaluation_seconds"] = round(result.seconds, 4)
    for change in out["changes"]:  # where the gallery finds the image (it reads only under granted folders)
        change["file"] = str(run.config.evaluate_image_dir / change["file_name"])
    names = run.job.evaluation_set.class_names
    out.update(task="detection", num_classes=len(names), class_names=list(names))
    return out
