"""results.json: the spec tool's three Top-1 keys plus what a reviewer needs, rendered once per run.

`build_results` is the one place the document is made; `write_results` the one writer (atomic). The
pytest run keeps the document in memory for its table, reports and history.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

from vsq.util import atomic
from vsq.statistics import metrics, per_image, paired as statistics
from vsq.pipeline.evaluate import ModelEvaluation
from vsq.pipeline.verdicts import decision
from vsq.configuration.job import Job
from vsq.pipeline.reference import BY_KEY, KERAS_QUANTIZED, QUANTIZED_TFLITE, REFERENCE_MODELS

# Models held against thresholds.max_top1_drop; model_quantized.tflite is also paired with the Keras
# model it was exported from, so a gap between the two shows the export's own effect.
GATED = (QUANTIZED_TFLITE.key, KERAS_QUANTIZED.key)

RESULTS_FILE = "results.json"


def build_results(job: Job, evaluations: dict[str, ModelEvaluation], files: dict[str, Path], environment: dict,
                  *, variants: dict | None = None, variant_evaluations: dict[str, ModelEvaluation] | None = None,
                  imx500: dict | None = None, cache: dict | None = None, run_id: str | None = None) -> dict:
    """The whole results document. Top-1/Top-5/agreement are fractions 0..1, drops percentage points.

    evaluations and files: per reference model key (vsq.pipeline.reference); variants: vsq.sections.variants's section,
    variant_evaluations its built variants' evaluations (their per-image record pairs baselines);
    imx500: the IMX500 converter's figures (fixtures.imx500).
    """
    keras = evaluations["keras"]
    names = job.evaluation_set.class_names
    out: dict = {model.spec_key: evaluations[model.key].top1 for model in REFERENCE_MODELS}
    out["top_1_drop_points"] = {
        key: metrics.top1_drop_points(keras.top1, result.top1) for key, result in evaluations.items() if key != "keras"
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
    out["models"] = {key: _model(result, keras, names, files.get(key)) for key, result in evaluations.items()
                     if key in BY_KEY}
    paths = per_image.used_paths(job.evaluation_set.paths, keras.skipped)  # the images every model saw, in order
    _add_statistics(out["models"], evaluations, job, paths)
    out["class_names"] = list(names)
    out["configuration"] = job.config.as_dict()
    out["environment"] = environment
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if variants:
        out["variants"] = variants
    if imx500:
        out["imx500"] = imx500
    correct = {key: result.correct for key, result in {**evaluations, **(variant_evaluations or {})}.items()}
    out["per_image"] = per_image.record(per_image.image_ids(paths, job.config.evaluate_image_dir), correct)
    out["cache"] = dict(cache or {})
    out["run_id"] = run_id
    out["results_file"] = str(job.config.evaluate_result_dir / RESULTS_FILE)
    return out


def _model(result: ModelEvaluation, keras: ModelEvaluation, names, file: Path | None) -> dict:
    return {
        "top_1_accuracy": result.top1,
        "top_5_accuracy": result.top5,
        "top_k_of_top_5": min(5, len(names)),
        "agreement_with_keras": metrics.agreement(result.predictions, keras.predictions),
        "per_class_top_1": dict(zip(names, result.per_class_top1)),
        "confusion_matrix": result.confusion.tolist(),
        "evaluation_seconds": round(result.seconds, 4),
        "file": str(file) if file else None,
        "file_size_bytes": size_bytes(file) if file else None,
    }


def _add_statistics(models: dict, evaluations: dict[str, ModelEvaluation], job: Job, paths: list) -> None:
    """Per model: the Wilson interval of its Top-1; against Keras (and model_quantized.tflite against
    model_quantized.keras) the paired comparison; for the gated models the decision; the flipped images."""
    thresholds, keras = job.config.thresholds, evaluations["keras"]
    correct = {key: result.correct for key, result in evaluations.items()}
    for key, model in models.items():
        model["top_1_interval"] = list(statistics.wilson_interval(int(correct[key].sum()), len(correct[key]),
                                                                  thresholds.confidence))
        if key == "keras":
            continue
        references = ["keras", *([KERAS_QUANTIZED.key] if key == QUANTIZED_TFLITE.key and KERAS_QUANTIZED.key in
                                  correct else [])]
        model["paired"] = {reference: statistics.compare_paired(correct[reference], correct[key],
                                                                thresholds.confidence).as_dict()
                           for reference in references}
        if key in GATED:
            model["decision"] = decision(model["paired"]["keras"], thresholds.max_top1_drop, thresholds)
        model["flipped"] = per_image.flipped(paths, keras.labels, job.evaluation_set.class_names, keras,
                                             evaluations[key])


def size_bytes(path: Path) -> int:
    """Size of a file, or of everything in a folder (a SavedModel)."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def environment(stack: dict, runtime) -> dict:
    """Versions of the stack and the TFLite runtime that produced the figures."""
    interpreter_version = stack["ai_edge_litert"] if runtime.interpreter == "litert" else stack["tensorflow"]
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
        "python": platform.python_version(),
        "host": platform.node(),
    }


def write_results(document: dict) -> Path:
    """Write the document to its results_file, atomically (a reader never sees half of it)."""
    dest = Path(document["results_file"])
    atomic.write_json(dest, document)
    return dest
