"""results.json: the spec tool's three Top-1 keys plus what a reviewer needs."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from vsq import atomic, metrics
from vsq.evaluate import ModelEvaluation
from vsq.job import Job

RESULTS_FILE = "results.json"
# The spec tool's key for each model, in the order the spec lists them.
SPEC_KEYS = {
    "keras": "top_1_accuracy_keras",
    "tflite": "top_1_accuracy_tflite",
    "tflite_quantized": "top_1_accuracy_tflite_quantized",
}


def build_results(job: Job, evaluations: dict[str, ModelEvaluation], files: dict[str, Path], environment: dict) -> dict:
    """The whole results document. Top-1/Top-5/agreement are fractions 0..1, drops percentage points."""
    keras = evaluations["keras"]
    names = job.evaluation.class_names
    out: dict = {SPEC_KEYS[name]: evaluations[name].top1 for name in SPEC_KEYS}
    out["top_1_drop_points"] = {
        name: metrics.top1_drop_points(keras.top1, evaluations[name].top1) for name in ("tflite", "tflite_quantized")
    }
    out["num_images"] = len(keras.labels)  # images used; see "images" for the skipped ones
    out["images"] = {
        "found": len(job.evaluation.paths),
        "used": len(keras.labels),
        "skipped": [{"file": path, "reason": reason} for path, reason in keras.skipped],
        "modes": keras.modes,
        "converted_to_rgb": sum(count for mode, count in keras.modes.items() if mode != "RGB"),
    }
    out["num_classes"] = job.evaluation.num_classes
    out["models"] = {
        name: {
            "top_1_accuracy": result.top1,
            "top_5_accuracy": result.top5,
            "top_k_of_top_5": min(5, job.evaluation.num_classes),
            "agreement_with_keras": metrics.agreement(result.predictions, keras.predictions),
            "per_class_top_1": dict(zip(names, result.per_class_top1)),
            "confusion_matrix": result.confusion.tolist(),
            "evaluation_seconds": round(result.seconds, 4),
            "file": str(files[name]) if name in files else None,
            "file_size_bytes": size_bytes(files[name]) if name in files else None,
        }
        for name, result in evaluations.items()
    }
    out["class_names"] = list(names)
    out["configuration"] = job.config.as_dict()
    out["environment"] = environment
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return out


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
        },
        "python": platform.python_version(),
        "host": platform.node(),
    }


def write_results(result_dir: Path, results: dict) -> Path:
    dest = Path(result_dir) / RESULTS_FILE
    atomic.write_json(dest, results)
    return dest
