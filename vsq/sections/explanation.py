"""The per-layer explanation of a configuration's quantized model (MCT XQuant through its framework): when
the accuracy gate fails, where quantization hurt.

It decides from the core of the document whether to explain (`explanation.when`: on_failure, the
default, only when an accuracy check of the default recipe fails, vsq.core.verdicts.quantized_checks;
always; never), and builds results.json's `explanation` part: status "ok" (vsq.core.layers'
Explanation.as_dict(), plus report_dir, cache, build_seconds), "failed" (the tool's message) or
"skipped" (with the reason). The quantized checks append its worst layers to their messages.

The explanation compares model_quantized.keras (the model the accuracy checks evaluate) with the float
model on the first calibration images and on a sample of evaluation images spread over the folder. It is
cached like every artifact (explanation.json and MCT's report as one archive) and MCT's report folder
(TensorBoard files, quant_report.json, its log) is delivered, replaced whole, to
evaluate_result_dir/xquant. When there is no explanation in this run (skipped, failed) that folder is
removed, so it always belongs to the results.json beside it. XQuant failing is recorded with its message,
never raised: the accuracy verdict stands on its own.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from pathlib import Path

from vsq.errors import ConfigError, VsqError, one_line
from vsq.pipeline import artifacts
from vsq.cache.store import file_digest
from vsq.core.verdicts import float_near_chance, quantized_checks
from vsq.sections.base import Section
from vsq.core.layers import failed, spread_indices

REPORT_FOLDER = "xquant"  # under evaluate_result_dir
RESULT_FILE = "explanation.json"
ARCHIVE = "xquant.tar"
WHAT = "explanation"  # the artifact's name in the cache log (results.json `cache`)


class ExplanationSection(Section):
    key = "explanation"

    def build(self, pipeline) -> dict:
        settings = pipeline.config.explanation
        report_dir = pipeline.config.evaluate_result_dir / REPORT_FOLDER
        reason = _reason_to_skip(pipeline)
        if reason:
            _remove(report_dir)
            return {"status": "skipped", "reason": reason, "when": settings.when}
        quantized_file = pipeline.default_build.fake_quant_path or pipeline.default_build.path
        key = artifacts.explanation_key(pipeline.job, pipeline.fingerprints, file_digest(quantized_file))
        try:
            entry = pipeline.cached.get_or_build("explanation", key, WHAT, lambda folder: _build(pipeline, folder),
                                                 needs=(RESULT_FILE, ARCHIVE))
            section = json.loads((entry / RESULT_FILE).read_text())
            _deliver(entry / ARCHIVE, report_dir)
        except ConfigError:  # a bad configuration ends the run (exit code 4)
            raise
        except Exception as error:  # XQuant, an unsupported layer, a model that cannot load: recorded, not raised
            pipeline.cache_log[WHAT] = "failed"
            _remove(report_dir)
            return {**failed(one_line(error)), "when": settings.when}
        how = pipeline.cache_log[WHAT]
        if how == "hit":
            section["build_seconds"] = None
        section.update(report_dir=str(report_dir), cache=how, when=settings.when)
        return section

    def html(self, name: str, document: dict) -> str:
        from vsq.rendering.explain_chart import html_part

        return html_part(name, document)


def _reason_to_skip(pipeline) -> str | None:
    when = pipeline.config.explanation.when
    if when == "never":
        return "explanation.when is never"
    if getattr(pipeline.framework, "given", None):  # vsq.pipeline.given.WithGiven
        return "the quantized model is a given file (quantized_model): MCT's per-layer explanation needs MCT's model"
    if when == "on_failure" and float_near_chance(pipeline.core, pipeline.config.thresholds):
        return "the float model is near chance: its drops are meaningless, and no layer of the quantized model " \
            "explains that"
    checks = quantized_checks(pipeline.name, pipeline.core, pipeline.config.thresholds)
    failing = [check for check in checks if check and not check.ok]
    if when == "on_failure" and not failing:
        return "the accuracy checks of model_quantized.tflite and model_quantized.keras passed (explanation.when is on_failure)"
    if when == "on_failure" and all(check.verdict == "INCONCLUSIVE" for check in failing):
        return "the accuracy checks failed as INCONCLUSIVE: more images decide them, not the layers"
    return None


def _build(pipeline, folder: Path) -> None:
    """explanation.json and xquant.tar (MCT's report folder) into the cache entry being built."""
    started = time.perf_counter()
    validation = validation_sample(pipeline.job, pipeline.config.explanation.max_validation_images)
    report_dir = folder / REPORT_FOLDER
    with pipeline.options.progress.bar(total=1, unit="run",
                                       desc=f"{pipeline.name}: per-layer explanation (MCT XQuant)") as bar:
        explanation = pipeline.framework.explain(pipeline.model, pipeline.fake_quant_model,
                                                 pipeline.calibration.iterate(), [validation], report_dir,
                                                 pipeline.config)
        bar.update(1)
    with tarfile.open(folder / ARCHIVE, "w") as archive:
        for name in explanation.files:
            archive.add(report_dir / name, arcname=name)
    shutil.rmtree(report_dir)
    section = explanation.as_dict()
    section["build_seconds"] = round(time.perf_counter() - started, 3)  # models loaded, sample decoded, XQuant
    (folder / RESULT_FILE).write_text(json.dumps(section, allow_nan=False))


def validation_sample(job, count: int):
    """Up to `count` evaluation images spread evenly over the sorted folder (every class), decoded and
    normalised with the configuration's preprocessing: float32 (n, size, size, 3). Unreadable images
    (kept out with unreadable_images: skip) are left out of the sample."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from vsq.configuration.preprocessing import ImageError

    preprocessing, paths = job.config.preprocessing, job.evaluation_set.paths
    chosen = [paths[i] for i in spread_indices(len(paths), count)]
    with ThreadPoolExecutor() as pool:
        decoded = [item for item in pool.map(preprocessing.try_decode, chosen) if not isinstance(item, ImageError)]
    if not decoded:
        raise VsqError(f"none of the {len(chosen)} evaluation images sampled for the explanation could be decoded")
    return preprocessing.normalize(np.stack([item.pixels for item in decoded]))


def _deliver(archive: Path, report_dir: Path) -> None:
    from vsq.util.atomic import replace_folder_with

    def unpack(folder: Path) -> None:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")

    replace_folder_with(report_dir, unpack)


def _remove(report_dir: Path) -> None:
    """An earlier run's report, which this run's results.json does not describe (or a link planted there)."""
    from vsq.util.atomic import remove_tree

    remove_tree(report_dir)


EXPLANATION = ExplanationSection()
