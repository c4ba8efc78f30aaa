"""The IMX500 section (a configuration's `imx500`): Sony's converter on model_quantized.keras, and whether the
model fits the sensor.

The converter (vsq.tools.imx500) writes output_dir/imx500/ and its log output_dir/imx500_converter.log; both
are kept in the content-addressed cache (the converter's files side by side with the log and the figures),
so a warm run converts nothing. A model that does not fit is a result (cached too: the converter is
deterministic); a converter that fails without a memory report is an error kept for the section's
checks, never raised past them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from vsq.pipeline import artifacts
from vsq.cache.store import MANIFEST, deliver, file_digest
from vsq.core.verdicts import Check, CheckSpec
from vsq.core.verdicts import fits
from vsq.core.check_names import IMX500_FITS_CHECK
from vsq.rendering.html_parts import cell  # noqa: F401 (the tables' cell: vsq.reporting.summary)
from vsq.sections.base import Section

OUTPUT_FOLDER = "imx500"
LOG_FILE = "imx500_converter.log"
RESULT_FILE = "result.json"
WHAT = "IMX500 conversion"  # the artifact's name in the cache log


@dataclass(frozen=True)
class Conversion:
    result: object | None  # vsq.tools.imx500.Imx500Result; None when the converter failed without a memory report
    error: str | None  # that failure, in the converter's words, with its log file
    cache: str  # "hit", "built" or "failed"

    def section(self, max_memory_utilization: float) -> dict:
        """The `imx500` part of results.json."""
        figures = self.result.as_dict() if self.result else {"error": self.error}
        return {**figures, "max_memory_utilization": max_memory_utilization, "cache": self.cache}


def convert(pipeline, made=None, name: str = "") -> Conversion:
    """The converter on a recipe's build (made: a RecipeBuild; None: the default recipe's); name: the recipe's, for
    its folder and log (output_dir/imx500_<name>/, imx500_converter_<name>.log; none for the default recipe)."""
    from vsq.tools import imx500
    from vsq.util.atomic import replace_folder

    check, converter, output_dir = pipeline.config.imx500, pipeline.job.imx500_converter, pipeline.config.output_dir
    # The converter's input: MCT's Keras export (imxconv-tf), or MCT's ONNX export (imxconv-pt).
    made = made or pipeline.default_build
    converter_input = made.fake_quant_path or made.path
    suffix, what = (f"_{name}", f"{WHAT} of {name}") if name else ("", WHAT)
    out_dir, log = output_dir / f"{OUTPUT_FOLDER}{suffix}", output_dir / LOG_FILE.replace(".log", f"{suffix}.log")
    key = artifacts.imx500_key(file_digest(converter_input), check.output, imx500.converter_version(converter))

    def build(folder: Path):
        # Straight into output_dir: when the converter fails, its log must stay where the message says.
        result = imx500.convert(converter, converter_input, out_dir, check.memory_report_only, log)
        for name in result.files:
            shutil.copyfile(out_dir / name, folder / name)
        shutil.copyfile(log, folder / LOG_FILE)
        (folder / RESULT_FILE).write_text(json.dumps(result.as_dict()))

    try:
        entry = pipeline.cached.get_or_build("imx500", key, what, build, needs=(RESULT_FILE, LOG_FILE),
                                             check=stored_problem)
    except imx500.Imx500Error as error:
        return Conversion(None, str(error), "failed")
    how = pipeline.cache_log[what]
    stored = imx500.Imx500Result.from_dict(json.loads((entry / RESULT_FILE).read_text()))
    if how == "hit":
        replace_folder(out_dir, [entry / name for name in stored.files])
        deliver(entry, LOG_FILE, log)
    return Conversion(replace(stored, out_dir=str(out_dir), log=str(log)), None, how)


def stored_problem(entry: Path) -> str | None:
    """Why a cache entry's result.json cannot be used, or None: it is a converter result whose files are files of
    the entry (the cache verified that those are plain names of regular files); a forged name could point anywhere."""
    from vsq.tools.imx500 import Imx500Result

    try:
        stored = json.loads((entry / RESULT_FILE).read_text())
        Imx500Result.from_dict(stored)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"its {RESULT_FILE} is not a converter's result"
    held = set(os.listdir(entry)) - {RESULT_FILE, LOG_FILE, MANIFEST}
    unheld = [name for name in stored["files"] if not isinstance(name, str) or name not in held]
    return f"its {RESULT_FILE} names {str(unheld[0])[:80]!r}, which is not a file of the entry" if unheld else None


class Imx500(Section):
    key = "imx500"
    # The converter reads MCT's export of the whole model, a detector's post-processing layer included, and its
    # figures are the memory report's: nothing here reads Top-1.
    tasks = ("classification", "detection")

    def applies(self, pipeline) -> bool:
        return pipeline.config.imx500 is not None

    def conversion(self, pipeline) -> Conversion:
        return pipeline.once("imx500", lambda: convert(pipeline))

    def build(self, pipeline) -> dict:
        return self.conversion(pipeline).section(pipeline.config.imx500.max_memory_utilization)


def _figures(pipeline, conversion: Conversion) -> dict:
    figures = {"imx500_max_memory_utilization": pipeline.config.imx500.max_memory_utilization}
    result = conversion.result
    if result is None:
        return {**figures, "imx500_error": conversion.error}
    for name in ("converter_version", "fits", "memory_usage_bytes", "memory_available_bytes", "utilization_percent",
                 "runtime_memory_bytes", "model_memory_bytes", "seconds", "log"):
        figures[f"imx500_{name}"] = getattr(result, name)
    return figures


def _input(pipeline) -> str:
    """The file the converter read: model_quantized.keras (Keras), model_quantized.onnx (PyTorch)."""
    return (pipeline.default_build.fake_quant_path or pipeline.default_build.path).name


def imx500_converts(pipeline, _=None) -> Check:
    """The converter read the model and wrote its memory report (a model too large for the memory is the
    next check's failure, not this one's)."""
    conversion = IMX500.conversion(pipeline)
    result = conversion.result
    reason = conversion.error if result is None else f"{result.error}; converter log: {result.log}"
    return Check(result is not None and (result.ok or result.fits is False), f"{pipeline.name}: {reason}",
                 _figures(pipeline, conversion))


def imx500_fits_in_memory(pipeline, _=None) -> Check:
    conversion, limit = IMX500.conversion(pipeline), pipeline.config.imx500.max_memory_utilization
    result, figures = conversion.result, _figures(pipeline, conversion)
    if result is None:
        return Check(False, f"{pipeline.name}: {conversion.error}", figures)
    if not result.fits:
        return Check(False, f"{pipeline.name}: {result.does_not_fit_message(_input(pipeline), _remedy(pipeline))}",
                     figures)
    return Check(fits(IMX500.build(pipeline)),
                 f"{pipeline.name}: {_input(pipeline)} uses {result.utilization_percent:g} % of the IMX500's "
                 f"memory ({result.memory_usage_bytes / 2**20:.2f} MB of {result.memory_available_bytes / 2**20:.2f} "
                 f"MB); imx500.max_memory_utilization is {limit:g} %; try {_remedy(pipeline)}", figures)


def _remedy(pipeline) -> str:
    """What a model over the memory can try: mixed precision where the variants section runs for the run's task
    (a detector's run has no variants yet, so pointing it there would send it to a key that does nothing)."""
    from vsq.sections.variants import VARIANTS
    from vsq.tools.imx500 import MIXED_PRECISION_REMEDY

    if pipeline.config.task in VARIANTS.tasks:
        return MIXED_PRECISION_REMEDY
    return (f"a smaller model (the variants, mct_mixed_precision among them, do not run for task "
            f"{pipeline.config.task!r} yet)")


def imx500_input_has_the_configured_size(pipeline, _=None) -> Check:
    conversion, size = IMX500.conversion(pipeline), pipeline.config.input_tensor_size
    result = conversion.result
    shape = result.input_shape if result else None
    figures = {"imx500_input_shape": list(shape) if shape else None, "input_tensor_size": size}
    if result is None:
        return Check(False, f"{pipeline.name}: {conversion.error}", figures)
    if shape is None:
        return Check(False, f"{pipeline.name}: the converter wrote no input tensor (dnnParams.xml), because "
                     f"{result.error or 'of an unknown problem'}; converter log: {result.log}", figures)
    # dnnParams.xml lists the dimensions in the model's order: height, width, channels for Keras, channels
    # first for PyTorch's ONNX.
    expected = (3, size, size) if pipeline.framework.channels_first else (size, size, 3)
    return Check(tuple(shape) == expected, f"{pipeline.name}: the converted model's input is "
                 f"{'x'.join(map(str, shape))}, the configuration's input_tensor_size gives "
                 f"{'x'.join(map(str, expected))}; check the model's input layer", figures)


IMX500 = Imx500()
IMX500.checks = (
    CheckSpec("imx500_converts", imx500_converts, whole_run=True),
    CheckSpec(IMX500_FITS_CHECK, imx500_fits_in_memory, whole_run=True),
    CheckSpec("imx500_input_has_the_configured_size", imx500_input_has_the_configured_size, whole_run=True),
)
