"""Cache keys: what each artifact depends on, and nothing else.

A key changes when the Keras model, the images, a setting that matters or a version of the stack
changes, so a stale artifact is never reused; it stays the same for changes that do not matter
(thresholds, output folders, the configuration's name).
"""

from __future__ import annotations

from dataclasses import dataclass

from vsq.cache.store import file_digest, files_digest, key_of
from vsq.configuration.config import MCT_KINDS, Variant
from vsq.pipeline.job import Job
from vsq.frameworks.recipe_options import options
from vsq.statistics.parity import SCORE_VALUES
from vsq.tasks import for_config as task_for
from vsq.runtimes.kinds import converter_versions
from vsq.util.cpu import instruction_set
from vsq.util.versions import image_library, stack, versions_of

# Bump when the way vsq builds an artifact changes, so that old entries are not reused.
RECIPE = 3  # 2: MCT recipes keep their quantized Keras model beside the .tflite; 3: evaluations keep top scores
SCREEN = 1  # the preprocessing screen's alternatives and search (vsq.sections.screen_search)
# Kinds that read no calibration data: their key does not depend on it.
UNCALIBRATED_KINDS = ("tf_dynamic_range", "tf_float16", "onnxruntime_float", "openvino_float")


@dataclass(frozen=True)
class Fingerprints:
    """Content digests of a job's inputs (SHA-256)."""

    model: str
    calibration: str
    evaluation: str
    stack: dict
    framework: dict  # the framework's and the task's own versions (Keras: TensorFlow's), also in stack

    @classmethod
    def of(cls, job: Job, framework=None) -> "Fingerprints":
        """The job's digests; the model's is its framework's (a Keras file; a PyTorch state_dict and its
        architecture); the stack includes the framework's and the task's own versions (a detector's
        edge-mdt-cl and pycocotools: the task's packages, vsq.tasks.base.Task)."""
        from vsq.frameworks import for_config
        from vsq.tasks import for_config as task_for

        config = job.config
        framework = framework or for_config(config)
        evaluation = files_digest(job.evaluation_set.paths, config.evaluate_image_dir)
        versions = stack()
        own = {**framework.versions(versions), **versions_of(task_for(config).packages)}
        return cls(
            model=framework.fingerprint(config),
            calibration=files_digest(job.calibration_images, config.dataset_image_dir),
            evaluation=key_of(images=evaluation, labels=file_digest(config.evaluate_label_file)),
            stack={**versions, **own},
            framework=own,
        )


def _preprocessing(job: Job) -> dict:
    """What decoded images depend on: the preprocessing's settings (the resampling filter among them) and the
    library that decodes and resizes them (Pillow and its JPEG decoder move Top-1 by tenths of a point)."""
    return {**job.config.preprocessing.cache_key(), "image_library": image_library()}


def model_info_key(prints: Fingerprints, settings: dict) -> str:
    """The model's interface, read by its framework (Keras: TensorFlow's version) with the settings it reads
    (Framework.describe_settings: PyTorch's input_tensor_size)."""
    return key_of(recipe=RECIPE, model=prints.model, **({"settings": settings} if settings else {}),
                  **prints.framework)


def float_tflite_key(prints: Fingerprints) -> str:
    """The float conversion: TensorFlow's, and the framework's versions (a Keras detector's SSDPostProcess is
    edge-mdt-cl's: its version is the framework's)."""
    return key_of(recipe=RECIPE, artifact="model.tflite", model=prints.model,
                  **{"tensorflow": prints.stack["tensorflow"], **prints.framework})


def recipe_key(job: Job, prints: Fingerprints, recipe: Variant, file_name: str | None = None,
               seed: int | None = None) -> str:
    """Cache key of a quantization recipe's file (the default model_quantized.tflite or a variant's).

    The options the kind reads and the file name matter; thresholds do not; the calibration only for
    kinds that read it; MCT's version only for MCT kinds; the converters' and quantizers' versions only for the
    ONNX Runtime and OpenVINO kinds (so that installing them changes no other key); the framework's versions
    (Keras: TensorFlow's) always. seed: a calibration draw's seed (vsq.sections.calibrations); None: the
    configuration's, so that the first draw is the default build with its key.
    """
    config = job.config
    calibration = None
    if recipe.kind not in UNCALIBRATED_KINDS:
        calibration = {"images": prints.calibration, "batch_size": config.batch_size,
                       "iteration_count": config.iteration_count, "seed": config.seed if seed is None else seed}
    converters = converter_versions(recipe.kind)
    return key_of(
        recipe=RECIPE, artifact=file_name or recipe.file_name, options=options(recipe, config), model=prints.model,
        calibration=calibration, preprocessing=_preprocessing(job),
        mct=prints.stack["model_compression_toolkit"] if recipe.kind in MCT_KINDS else None,
        **({"converters": converters} if converters else {}),
        **prints.framework,
    )


def imx500_key(keras_digest: str, output: str, converter_version: str | None) -> str:
    """The IMX500 converter's outputs for one model_quantized.keras (its digest), per output mode and
    converter version (the memory limit is a threshold: it does not matter)."""
    return key_of(recipe=RECIPE, artifact="imx500", model=keras_digest, output=output, converter=converter_version)


def explanation_key(job: Job, prints: Fingerprints, keras_digest: str) -> str:
    """The per-layer explanation (vsq.sections.explanation) of one model_quantized.keras (its digest) against the
    Keras model, on the first calibration images and a sample of the evaluation images, folded for the
    configuration's target platform. `when` does not matter (it decides whether to explain, not what the
    explanation is)."""
    config, settings = job.config, job.config.explanation
    calibration = {"images": prints.calibration, "batch_size": config.batch_size,
                   "iteration_count": config.iteration_count, "seed": config.seed}
    return key_of(
        recipe=RECIPE, artifact="explanation", model=prints.model, quantized=keras_digest, calibration=calibration,
        target_platform=config.target_platform,
        evaluation=prints.evaluation, preprocessing=_preprocessing(job),
        max_representative_images=settings.max_representative_images,
        max_validation_images=settings.max_validation_images, unreadable_images=config.unreadable_images,
        mct=prints.stack["model_compression_toolkit"], **prints.framework,
    )


def evaluation_key(job: Job, prints: Fingerprints, model_digest: str, runtime: dict | None) -> str:
    """The evaluation of one model file (its digest: of every file of the model) on the evaluation set, with a
    given runtime (the TFLite runtime, or the pinned ONNX Runtime or OpenVINO settings with their version).

    The runtime's `instances` is left out: the pool gives every invoke the same input as one
    instance (vsq.runtimes.tflite.shards), so its predictions are identical (tests/test_sharding.py).
    """
    if runtime:
        runtime = {name: value for name, value in runtime.items() if name != "instances"}
    return key_of(
        recipe=RECIPE, artifact="evaluation", model=model_digest, evaluation=prints.evaluation,
        preprocessing=_preprocessing(job), runtime=runtime, stack=prints.stack,
        unreadable_images=job.config.unreadable_images, cpu=instruction_set(),
        scores=SCORE_VALUES,  # the scores kept for parity (vsq.statistics.parity): entries without them are redone
        # another task stores another evaluation of the same file, read as its settings say (a detector's box
        # format, its annotations); classification keeps the keys it had before tasks
        **({} if job.config.task == "classification" else
           {"task": job.config.task, "task_settings": task_for(job.config).evaluation_settings(job.config)}),
    )


def screen_key(job: Job, prints: Fingerprints) -> str:
    """The preprocessing screen (vsq.sections.screen) of the float model on a sample of the evaluation images:
    the sample follows from the images and max_images; the rule (gain, p-value) decides which alternatives are
    tried after the first round, so it is part of the key too."""
    settings = job.config.screen
    return key_of(
        recipe=RECIPE, screen=SCREEN, artifact="screen", model=prints.model, evaluation=prints.evaluation,
        preprocessing=_preprocessing(job), max_images=settings.max_images, min_gain_points=settings.min_gain_points,
        max_p_value=settings.max_p_value, cpu=instruction_set(),
        **prints.framework,  # Keras: TensorFlow's version; PyTorch: torch's
    )
