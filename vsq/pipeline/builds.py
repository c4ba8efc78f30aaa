"""Recipe builds: the default model (model_quantized.tflite and model_quantized.keras) and every variant go
through one function, one cache key (vsq.pipeline.artifacts.recipe_key) and one RecipeBuild record.

A tool that cannot build a recipe (MCT, TensorFlow's converter) is a kept result, not an exception:
its message names the recipe and a fix, and only that recipe's checks fail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from vsq.configuration.config import Variant
from vsq.errors import ExternalToolError
from vsq.pipeline import artifacts
from vsq.cache.store import deliver
from vsq.core.checks import Steps


@dataclass(frozen=True)
class RecipeBuild:
    """One recipe's file in output_dir, or why it could not be made."""

    recipe: Variant
    path: Path | None
    fake_quant_path: Path | None = None  # MCT's quantized model as a file in the framework's format (model_<name>.keras)
    error: str | None = None  # the tool's message, naming the recipe, and a fix
    seconds: float | None = None  # build time; None when taken from the cache
    cache: str = "built"  # "hit", "built" or "failed"


def build(pipeline: Steps, recipe: Variant, show_progress: bool = False, seed: int | None = None) -> RecipeBuild:
    """output_dir/model_<name>.<ext> of one recipe (its .tflite, .onnx, or .xml and .bin; and MCT's quantized model
    beside it where the framework keeps one as a file: model_<name>.keras), from the cache or built.
    seed: the calibration draw's seed (vsq.sections.calibrations); None: the configuration's."""
    from vsq.frameworks.recipe_options import fix_hint

    job, config, framework = pipeline.job, pipeline.config, pipeline.framework
    names = framework.recipe_files(recipe)
    name, model_name = names[0], framework.fake_quant_file(recipe)
    dest, kind = config.output_dir / name, Path(name).suffix.lstrip(".")  # kind: the cache's folder (tflite, onnx, xml)
    batches = calibration_batches(pipeline, show_progress, seed)
    started = time.perf_counter()

    def make(folder: Path) -> None:
        pipeline.framework.build_recipe(recipe, pipeline.model, batches, config, folder / name)

    try:
        entry = pipeline.cached.get_or_build(kind, artifacts.recipe_key(job, pipeline.fingerprints, recipe, name, seed),
                                             name, make, needs=names)
    except ExternalToolError as error:
        for stale in (*names, *([model_name] if model_name else [])):
            (config.output_dir / stale).unlink(missing_ok=True)  # a file from an earlier run would pass for this run's
        return RecipeBuild(recipe, None, error=f"{error}\nFix: {fix_hint(recipe, config, str(error))}",
                           seconds=time.perf_counter() - started, cache="failed")
    how = pipeline.cache_log[name]
    for companion in names[1:]:  # an OpenVINO IR's .bin, before its .xml
        deliver(entry, companion, config.output_dir / companion)
    fake_quant_path = (deliver(entry, model_name, config.output_dir / model_name)
                  if model_name and (entry / model_name).is_file() else None)
    return RecipeBuild(recipe, deliver(entry, name, dest), fake_quant_path,
                       seconds=None if how == "hit" else time.perf_counter() - started, cache=how)


def calibration_batches(pipeline: Steps, show_progress: bool, seed: int | None = None):
    """The calibration batches (same images, preprocessing and seed for every recipe; a draw's own seed), decoded on
    first use."""
    def batches():
        calibration = pipeline.calibration if seed is None else pipeline.calibration_draw(seed)
        if not show_progress:
            yield from calibration.iterate()
            return
        # MCT first peeks at one batch, then iterates over all of them: show the bar for the full pass only.
        yield calibration.batch(0)
        count = len(calibration.batches)
        with pipeline.options.progress.bar(total=count, initial=1, desc=f"{pipeline.name}: calibration",
                                           unit="it") as bar:
            for i in range(1, count):
                yield calibration.batch(i)
                bar.update(1)

    return batches
