"""The core of results.json, built once from one evaluation pass: the spec tool's Top-1 keys, per-model
figures and paired statistics, the images, the configuration and environment, the per-image record.
Top-1/Top-5/agreement are fractions 0..1, drops percentage points. Sections add their parts to it
(vsq.pipeline.results.finish)."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vsq.pipeline.evaluate import ModelEvaluation
from vsq.core.reference import roles
from vsq.core.verdicts import decision
from vsq.configuration import selection
from vsq.provenance import of as provenance_of
from vsq.statistics import metrics, parity, per_image
from vsq.statistics import paired as statistics
from vsq.runtimes import kinds
from vsq.util import versions
from vsq.util.cpu import host_cpu

if TYPE_CHECKING:
    from vsq.pipeline.job import Job
    from vsq.pipeline.pipeline import Pipeline

RESULTS_FILE = "results.json"


def build_core(pipeline: Pipeline) -> dict:
    """The document's core from the pipeline's evaluations: the reference models' figures, and the
    per-image record of every model evaluated (the reference models and the variants: it pairs baselines)."""
    job, evaluations, framework = pipeline.job, pipeline.evaluations, pipeline.framework
    references = {model.key: evaluations[model.key] for model in framework.models}
    float_key = framework.models[0].key
    keras = references[float_key]  # the float model, every drop's reference (the Keras model for Keras)
    names = job.evaluation_set.class_names
    out: dict = {model.spec_key: references[model.key].top1 for model in framework.models}
    out["framework"] = framework.name
    out["reference_models"] = roles(framework.models)
    out["top_1_drop_points"] = {
        key: metrics.top1_drop_points(keras.top1, result.top1) for key, result in references.items() if key != float_key
    }
    out["num_images"] = len(keras.labels)  # images used; see "images" for the skipped ones
    out["images"] = {
        "found": len(job.evaluation_set.paths),
        "used": len(keras.labels),
        "skipped": [{"file": path, "reason": reason} for path, reason in keras.skipped],
        "modes": keras.modes,
        "converted_to_rgb": sum(count for mode, count in keras.modes.items() if mode != "RGB"),
    }
    out["num_classes"] = job.evaluation_set.num_classes
    files = pipeline.reference_files
    out["models"] = {key: _model(result, float_key, keras, names, files.get(key)) for key, result in references.items()}
    paths = per_image.used_paths(job.evaluation_set.paths, keras.skipped)  # the images every model saw, in order
    _add_statistics(out["models"], references, out["reference_models"], job, paths)
    out["class_names"] = list(names)
    out["configuration"] = job.config.as_dict()
    out["provenance"] = provenance_of(job)  # commit, model, configuration and image list the figures are of
    out["evaluation_selection"] = selection.record(job.config, job.evaluation_set.found, len(job.evaluation_set.paths))
    # vsq's stack and the framework's own versions (PyTorch: torch, torchvision, ONNX Runtime).
    out["environment"] = environment(pipeline.fingerprints.stack, job.config.tflite_runtime,
                                     job.config.preprocessing.resize, [variant.kind for variant in job.config.variants])
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    correct = {key: result.correct for key, result in evaluations.items()}
    out["per_image"] = per_image.record(per_image.image_ids(paths, job.config.evaluate_image_dir), correct)
    out["run_id"] = pipeline.options.run_id
    out["results_file"] = str(job.config.evaluate_result_dir / RESULTS_FILE)
    return out


def _model(result: ModelEvaluation, float_key: str, reference: ModelEvaluation, names, file: Path | None) -> dict:
    """A model's figures; agreement_with_<float key> (agreement_with_keras): the fraction of images on which it
    predicts the float model's class."""
    return {
        "top_1_accuracy": result.top1,
        "top_5_accuracy": result.top5,
        "top_k_of_top_5": min(5, len(names)),
        f"agreement_with_{float_key}": metrics.agreement(result.predictions, reference.predictions),
        "per_class_top_1": dict(zip(names, result.per_class_top1)),
        "confusion_matrix": result.confusion.tolist(),
        "evaluation_seconds": round(result.seconds, 4),
        "file": str(file) if file else None,
        "file_size_bytes": size_bytes(file) if file else None,
    }


def _add_statistics(models: dict, evaluations: dict[str, ModelEvaluation], roles: dict, job: Job,
                    paths: list) -> None:
    """Per model: the Wilson interval of its Top-1; against the float model (and the quantized file against
    MCT's quantized model it was exported from: the export's own effect) the paired comparison, keyed by the
    reference's key; for the gated models (the quantized and the fake-quant one) the decision; the flipped
    images. roles: role -> key (vsq.core.reference.roles)."""
    thresholds, float_key = job.config.thresholds, roles["float"]
    reference, correct = evaluations[float_key], {key: result.correct for key, result in evaluations.items()}
    gated = (roles.get("quantized"), roles.get("fake_quant"))
    ids = parity.image_names(paths, job.config.evaluate_image_dir)
    for key, model in models.items():
        model["top_1_interval"] = list(statistics.wilson_interval(int(correct[key].sum()), len(correct[key]),
                                                                  thresholds.confidence))
        if key == float_key:
            continue
        against = [float_key, *([roles["fake_quant"]] if key == roles.get("quantized") and roles.get("fake_quant")
                                in correct else [])]
        model["paired"] = {other: statistics.compare_paired(correct[other], correct[key], thresholds.confidence).as_dict()
                           for other in against}
        # per image, how far its scores are from each model it is compared with (vsq.statistics.parity)
        pairs = {other: parity.of(evaluations[other], evaluations[key], ids) for other in against}
        model["parity"] = {other: summary for other, summary in pairs.items() if summary}
        for other in against[1:]:  # the export's own effect on predictions, not only on correctness
            model[f"agreement_with_{other}"] = metrics.agreement(evaluations[key].predictions,
                                                                 evaluations[other].predictions)
        if key in gated:
            model["decision"] = decision(model["paired"][float_key], thresholds.max_top1_drop, thresholds)
        model["flipped"] = per_image.flipped(paths, reference.labels, job.evaluation_set.class_names, reference,
                                             evaluations[key], float_key)


def size_bytes(path: Path) -> int:
    """Size of a file, or of everything in a folder (a SavedModel)."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def environment(stack: dict, runtime, resize_filter: str | None = None, variant_kinds=()) -> dict:
    """Versions of the stack and the TFLite runtime that produced the figures; what decoded and resized the
    images (Pillow, its JPEG decoder, the resampling filter); and for variants of the other runtimes, each
    runtime's version, pinned settings, pool size and converters' versions."""
    interpreter_version = stack["ai_edge_litert"] if runtime.interpreter == "litert" else stack["tensorflow"]
    others = {}
    for kind in variant_kinds:
        needs = kinds.KINDS.get(kind)
        if needs:
            entry = others.setdefault(needs.runtime.key, {**kinds.settings(needs.runtime),
                                                          "instances": runtime.pool_size, "converters": {}})
            entry["converters"].update(kinds.converter_versions(kind))
    return {
        **stack,
        "tflite_runtime": {
            "interpreter": runtime.interpreter,
            "version": interpreter_version,
            "op_resolver": runtime.op_resolver,
            "num_threads": runtime.num_threads,
            "batch_size": runtime.batch_size,
            "instances": runtime.pool_size,
        },
        "images": {**versions.image_library(), "resize_filter": resize_filter},
        **others,
        "python": platform.python_version(),
        "host": platform.node(),
        "cpu": host_cpu(),  # INT8 kernels (and so figures) differ by instruction set
    }
