"""Cache keys: what each artifact depends on, and nothing else.

A key changes when the Keras model, the images, a setting that matters or a version of the stack
changes, so a stale artifact is never reused; it stays the same for changes that do not matter
(thresholds, output folders, the configuration's name).
"""

from __future__ import annotations

from dataclasses import dataclass

from vsq.cache import file_digest, files_digest, key_of
from vsq.job import Job
from vsq.versions import stack

# Bump when the way vsq builds an artifact changes, so that old entries are not reused.
RECIPE = 1


@dataclass(frozen=True)
class Fingerprints:
    """Content digests of a job's inputs (SHA-256)."""

    model: str
    calibration: str
    evaluation: str
    stack: dict

    @classmethod
    def of(cls, job: Job) -> "Fingerprints":
        config = job.config
        evaluation = files_digest(job.evaluation.paths, config.evaluate_image_dir)
        return cls(
            model=file_digest(config.source_keras_model),
            calibration=files_digest(job.calibration_images, config.dataset_image_dir),
            evaluation=key_of(images=evaluation, labels=file_digest(config.evaluate_label_file)),
            stack=stack(),
        )


def _preprocessing(job: Job) -> dict:
    config = job.config
    return {"size": config.input_tensor_size, "resize": config.preprocessing.resize,
            "mean_std": config.preprocessing.mean_std}


def model_info_key(prints: Fingerprints) -> str:
    return key_of(recipe=RECIPE, model=prints.model, tensorflow=prints.stack["tensorflow"])


def float_tflite_key(prints: Fingerprints) -> str:
    return key_of(recipe=RECIPE, artifact="model.tflite", model=prints.model, tensorflow=prints.stack["tensorflow"])


def quantized_tflite_key(job: Job, prints: Fingerprints) -> str:
    config = job.config
    return key_of(
        recipe=RECIPE, artifact="model_quantized.tflite", model=prints.model, calibration=prints.calibration,
        batch_size=config.batch_size, iteration_count=config.iteration_count, seed=config.seed,
        target_platform=config.target_platform, preprocessing=_preprocessing(job),
        tensorflow=prints.stack["tensorflow"], mct=prints.stack["model_compression_toolkit"],
    )


def evaluation_key(job: Job, prints: Fingerprints, model_digest: str, runtime: dict | None) -> str:
    """The evaluation of one model file (its digest) on the evaluation set, with a given TFLite runtime."""
    return key_of(
        recipe=RECIPE, artifact="evaluation", model=model_digest, evaluation=prints.evaluation,
        preprocessing=_preprocessing(job), runtime=runtime, stack=prints.stack,
        unreadable_images=job.config.unreadable_images,
    )
