"""The core of results.json, built once from one evaluation pass: the task's figures (vsq.tasks: the spec tool's
keys, per-model figures and paired statistics, the per-image record), the models' files, the images, the
configuration and environment. Sections add their parts to it (vsq.pipeline.results.finish)."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from vsq.core.reference import roles
from vsq.configuration import selection
from vsq.provenance import of as provenance_of
from vsq.runtimes import kinds
from vsq.util import versions
from vsq.util.cpu import host_cpu
from vsq.core.checks import Steps


RESULTS_FILE = "results.json"


def build_core(pipeline: Steps) -> dict:
    """The document's core from the pipeline's evaluations: the task's figures (vsq.tasks: per model, the spec's
    keys, paired statistics, the per-image record) and what every task's document has (the framework, the models'
    files, the images, the configuration, provenance and environment)."""
    job, evaluations, framework = pipeline.job, pipeline.evaluations, pipeline.framework
    reference = evaluations[framework.models[0].key]  # the float model: the images every model saw
    out: dict = pipeline.task.core(pipeline, evaluations)
    out["framework"] = framework.name
    out["reference_models"] = roles(framework.models)
    out["num_images"] = reference.images_used  # images used; see "images" for the skipped ones
    out["images"] = {
        "found": len(job.evaluation_set.paths),
        "used": reference.images_used,
        "skipped": [{"file": path, "reason": reason} for path, reason in reference.skipped],
        "modes": reference.modes,
        "converted_to_rgb": sum(count for mode, count in reference.modes.items() if mode != "RGB"),
    }
    files = pipeline.reference_files
    for key, model in out["models"].items():
        file = files.get(key)
        model.update(file=str(file) if file else None, file_size_bytes=size_bytes(file) if file else None)
    out["configuration"] = job.config.as_dict()
    out["provenance"] = provenance_of(job)  # commit, model, configuration and image list the figures are of
    # the image files' and annotations' digest (the cache's): a baseline's entry records it (vsq.sections.baseline_origin)
    out["provenance"]["evaluation_digest"] = pipeline.fingerprints.evaluation
    out["evaluation_selection"] = selection.record(job.config, job.evaluation_set.found, len(job.evaluation_set.paths))
    # vsq's stack and the framework's own versions (PyTorch: torch, torchvision, ONNX Runtime).
    out["environment"] = environment(pipeline.fingerprints.stack, job.config.tflite_runtime,
                                     job.config.preprocessing.resize, [variant.kind for variant in job.config.variants])
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out["run_id"] = pipeline.options.run_id
    out["results_file"] = str(job.config.evaluate_result_dir / RESULTS_FILE)
    return out


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
