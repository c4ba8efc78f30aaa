"""The variants part of results.json: every quantized file of a configuration side by side.

Rows for model.tflite, model_quantized.tflite (the default recipe) and every variant, on the same
images: Top-1, Top-5, drop and agreement against Keras, file size, weight storage, latency, the device the
row stands for and the runtime that ran it; and the recommendation, the smallest quantized file within its
thresholds, overall and per device.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from vsq.statistics import metrics, parity, per_image
from vsq.configuration.config import Config
from vsq.pipeline.builds import RecipeBuild
from vsq.pipeline.given import compared
from vsq.core.verdicts import decision, float_near_chance, interval_text, within_thresholds
from vsq.statistics.paired import compare_paired
from vsq.rendering.drops import row_check, verdict_of, with_paired
from vsq.rendering.parity_text import AGREE, WORST, agreement_text, parity_text
from vsq.runtimes import kinds
from vsq.runtimes.storage import describe

LATENCY = {"batch": 1, "instances": 1, "warmup_runs": 2, "timed_runs": 10}
RECOMMENDATION_RULE = ("smallest file among the quantized models within their max_top1_drop and min_top1 "
                       "(better than chance when min_top1 is null), none while the float model is near chance (the "
                       "drops are meaningless: drops_are_meaningful); recommended_by_device: the same rule among "
                       "the rows of each device")


def variants_section(pipeline, builds: dict[str, RecipeBuild], evaluations: dict,
                     evaluation_failures: dict[str, str] | None = None) -> dict:
    """The section: rows by name (the float export (model.tflite) where the framework has one, the default
    model (model_quantized.tflite / .onnx), then variants in configuration order).

    evaluations: ModelEvaluation per built variant; evaluation_failures: variants that were built but could
    not be evaluated, with why. Latency is measured on the first evaluation image, on each file's runtime.
    """
    job, config, framework = pipeline.job, pipeline.config, pipeline.framework
    files, float_key = pipeline.reference_files, framework.models[0].key
    references = {model.key: pipeline.evaluations[model.key] for model in framework.models}
    keras = references[float_key]
    image_path = job.evaluation_set.paths[0]
    image = config.preprocessing.normalize(config.preprocessing.decode(image_path).pixels)
    given = getattr(framework, "given", None)  # a given quantized_model (vsq.pipeline.given) takes the role
    labels = {"float_export": "float (TFLite converter)", "quantized": f"given ({given.format}, quantized_model)" if
              given else f"mct_ptq ({config.target_platform}, the default model)"}
    devices = {"float_export": "TFLite CPU", "quantized": _device(given.path) if given else
               kinds.device_of("mct_ptq", config.target_platform)}
    rows = {model.file or model.key: _row(labels[model.role], files[model.key], references[model.key], keras,
                                          float_key, config, devices[model.role])
            for model in framework.models if model.role in labels}
    quantized = pipeline.role("quantized")
    default = rows[quantized.file or quantized.key]
    _judge(default, references[quantized.key], keras, float_key, config.thresholds.max_top1_drop, config)
    meaningful = not float_near_chance(pipeline.core, config.thresholds)  # the drop checks' rule
    default.update(candidate=True, within_threshold=within_thresholds(default, config.thresholds.min_top1,
                                                                      keras.num_classes, meaningful))
    for name, build in builds.items():
        error = build.error or (evaluation_failures or {}).get(name)
        rows[name] = _variant_row(config, build, evaluations.get(name), keras, float_key, error, meaningful)
    for item in compared(pipeline.job.given):  # models: files the configuration gives
        rows[item.name] = _given_row(config, item, evaluations.get(item.name), keras, float_key,
                                     (evaluation_failures or {}).get(item.name), meaningful)
    _add_parity(rows, {**{model.file or model.key: references[model.key] for model in framework.models
                          if (model.file or model.key) in rows}, **evaluations}, keras, float_key, job)
    runtimes = {name: build.recipe.runtime for name, build in builds.items()}  # a variant's "runtime"
    for name, row in rows.items():
        if row.get("file") and not row.get("error") and Path(row["file"]).is_file():
            predict = framework.file_predictor(Path(row["file"]), config, instances=LATENCY["instances"],
                                               runtime=runtimes.get(name))
            row["latency_ms_per_image"] = round(latency_ms(predict, image, LATENCY["warmup_runs"],
                                                           LATENCY["timed_runs"]), 3)
    return {
        "models": rows,
        "recommended": recommend(rows),
        "recommended_by_device": recommend_by_device(rows),
        "recommendation_rule": RECOMMENDATION_RULE,
        "failed": {name: row["error"] for name, row in rows.items() if row.get("error")},
        "latency": {**LATENCY, "image": str(image_path), "tflite_runtime": vars(config.tflite_runtime)},
    }


def _device(path: Path) -> str:
    """What a given file's row stands for: its runtime's device (Keras on CPU for MCT's .keras)."""
    runtime = kinds.for_file(path)
    return runtime.device if runtime else "Keras CPU"


def _given_row(config: Config, item, result, keras, float_key: str, error: str | None, meaningful: bool) -> dict:
    """A row for a file the configuration gives (models), judged by its own thresholds like a variant."""
    row = {"kind": f"given ({item.format})", "device": _device(item.path), "file": str(item.path),
           "max_top1_drop": item.max_top1_drop, "min_top1": item.min_top1, "candidate": True, "given": True,
           "error": error, "within_threshold": False}
    if result is None:
        return row
    row.update(_row(row["kind"], item.path, result, keras, float_key, config, row["device"]), reference=False)
    _judge(row, result, keras, float_key, item.max_top1_drop, config)
    row["within_threshold"] = within_thresholds(row, item.min_top1, keras.num_classes, meaningful)
    return row


def _add_parity(rows: dict, evaluations: dict, keras, float_key: str, job) -> None:
    """Each evaluated row's parity per image with the float model (vsq.statistics.parity), keyed by its key."""
    paths = per_image.used_paths(job.evaluation_set.paths, keras.skipped)
    ids = parity.image_names(paths, job.config.evaluate_image_dir)
    for name, row in rows.items():
        summary = parity.of(keras, evaluations[name], ids) if name in evaluations and not row.get("error") else None
        if summary:
            row["parity"] = {float_key: summary}


def _row(kind: str, path: Path, result, keras, float_key: str, config: Config, device: str,
         runtime: str | None = None) -> dict:
    """A row of figures for a built file (reference rows are marked: history skips them)."""
    storage = describe(path) if kinds.for_file(path) else {"weights": None, "inputs": None, "outputs": None}
    return {
        "kind": kind, "device": device, "runtime": _runtime(path, config, runtime), "file": str(path), "reference": True,
        "top_1_accuracy": result.top1, "top_5_accuracy": result.top5,
        "top_1_drop_points": metrics.top1_drop_points(keras.top1, result.top1),
        f"agreement_with_{float_key}": metrics.agreement(result.predictions, keras.predictions),
        "file_size_bytes": sum(file.stat().st_size for file in kinds.model_files(path)),
        **{key: storage[key] for key in ("weights", "inputs", "outputs")},
    }


def _runtime(path: Path, config: Config, named: str | None = None) -> dict:
    """The runtime that ran the file (named: a variant's "runtime"; None: its suffix's): its name, version and
    settings (TFLite: the configured runtime)."""
    from vsq.frameworks import for_config

    runtime = kinds.for_file(path, named)
    if runtime is not None and runtime.configured:
        return kinds.runtime_record(path, config.tflite_runtime, named)
    return for_config(config).runtime_settings(path, config, named)


def _variant_row(config: Config, build: RecipeBuild, result, keras, float_key: str, error: str | None,
                 meaningful: bool) -> dict:
    from vsq.frameworks.recipe_options import options, target_platform

    variant = build.recipe
    row = {
        "kind": variant.kind,
        "device": kinds.device_of(variant.kind, target_platform(variant, config), variant.runtime),
        "options": {key: value for key, value in options(variant, config).items() if key != "kind"},
        "file": str(build.path) if build.path else None,
        "max_top1_drop": variant.max_top1_drop, "min_top1": variant.min_top1, "candidate": True,
        "build_seconds": None if build.seconds is None else round(build.seconds, 2), "cache": build.cache,
        "error": error, "within_threshold": False,
    }
    if result is None:  # not built, or not evaluated
        return row
    row.update(_row(variant.kind, build.path, result, keras, float_key, config, row["device"], variant.runtime),
               reference=False)
    _judge(row, result, keras, float_key, variant.max_top1_drop, config)
    row["within_threshold"] = within_thresholds(row, variant.min_top1, keras.num_classes, meaningful)
    return row


def _judge(row: dict, result, keras, float_key: str, limit: float, config: Config) -> None:
    """The paired comparison with the float model and the decision on the drop, as for the default model."""
    paired = compare_paired(keras.correct, result.correct, config.thresholds.confidence)
    row["paired"] = {float_key: paired.as_dict()}
    row["decision"] = decision(row["paired"][float_key], limit, config.thresholds)


def recommend(rows: dict[str, dict]) -> str | None:
    """The smallest file among the quantized models within their thresholds (ties: first listed)."""
    candidates = [(row["file_size_bytes"], i, name) for i, (name, row) in enumerate(rows.items())
                  if row.get("candidate") and row.get("within_threshold")]
    return min(candidates)[2] if candidates else None


def recommend_by_device(rows: dict[str, dict]) -> dict[str, str | None]:
    """Per device of the rows (IMX500, TFLite CPU, ONNX Runtime CPU, OpenVINO CPU): recommend() among its rows."""
    devices = dict.fromkeys(row["device"] for row in rows.values() if row.get("device"))
    return {device: recommend({name: row for name, row in rows.items() if row.get("device") == device})
            for device in devices}


def latency_ms(predict, image: np.ndarray, warmup: int = 2, runs: int = 10) -> float:
    """Mean milliseconds per batch-1 inference (quantization of the input included), after warm-up.

    predict: images -> scores; image: one preprocessed float32 image (H, W, 3).
    """
    batch = image[None].astype(np.float32)
    for _ in range(warmup):
        predict(batch)
    start = time.perf_counter()
    for _ in range(runs):
        predict(batch)
    return (time.perf_counter() - start) / runs * 1000.0


def table_rows(name: str, document: dict) -> list[tuple]:
    """Terminal rows of one configuration's variants section: best Top-1 first, failed builds last, the pick marked.
    The document's `models` give the reference files' rows their interval, its `checks` each row's verdict."""
    section = document["variants"]
    ordered = sorted(section["models"].items(), key=lambda item: -(item[1].get("top_1_accuracy") or -1.0))
    return [_table_row(name, f"{model} *" if model == section["recommended"] else model,
                       with_paired(model, row, document.get("models")), verdict_of(document, row_check(model, row))[0])
            for model, row in ordered]


def table_header(confidence: float = 0.95) -> tuple:
    """The columns of table_rows; the drop with its paired interval and the verdict as in the Top-1 table."""
    return ("configuration", "model", "kind", "device", "size (KB)", "Top-1", f"drop (pp) [{confidence * 100:g}% CI]",
            "verdict", AGREE, WORST, "ms/img", "gate")


def _table_row(job_name: str, name: str, row: dict, verdict: str) -> tuple:
    kind, device = row["kind"].split(" (")[0], row.get("device", "")
    if row.get("error"):
        return (job_name, name, kind, device, "-", "-", "-", "-", "-", "-", "-", "ERROR")
    gate = "" if "within_threshold" not in row else ("PASS" if row["within_threshold"] else "FAIL")
    paired = next(iter((row.get("paired") or {}).values()), None)  # against the float model (keras, pytorch)
    drop = interval_text(paired) if paired else f"{row['top_1_drop_points']:+.2f}"
    return (job_name, name, kind, device, f"{row['file_size_bytes'] / 1024:.1f}", f"{row['top_1_accuracy']:.4f}", drop,
            verdict, agreement_text(row) or "-", parity_text(row) or "-", f"{row['latency_ms_per_image']:.2f}", gate)
