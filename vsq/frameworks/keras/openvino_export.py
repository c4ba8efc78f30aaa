"""The openvino_* recipes: the Keras model converted by openvino.convert_model, and that model quantized by
NNCF's post-training quantization (nncf.quantize, NNCF_OPTIONS) on the calibration batches.

Each is saved as an OpenVINO IR: dest (.xml) and its .bin beside it, weights kept in float32
(compress_to_fp16=False: OpenVINO's default would store a "float" model in float16).

OpenVINO's converter and NNCF send usage telemetry by default and keep a client id under the home folder;
vsq imports and calls them with it off (vsq.runtimes.telemetry).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from vsq.runtimes.openvino_runtime import openvino_module
from vsq.runtimes.telemetry import telemetry_off
from vsq.util import atomic


# NNCF's accurate bias correction rather than its fast default, as NNCF advises where accuracy matters more than
# quantization time (benchmarks/nncf_options.py: Top-1 0.93 -> 0.94 on the example, Keras 0.94; 0.520 -> 0.580 on
# a CNN on digits, Keras 0.578; about a second either way).
NNCF_OPTIONS = {"fast_bias_correction": False}


def export_float(model, dest: Path) -> Path:
    """dest (.xml and .bin): the Keras model as an OpenVINO IR."""
    return _save(_convert(model), dest)


def export_int8(model, batches: Callable[[], Iterable], count: int, dest: Path, options: dict | None = None) -> Path:
    """dest (.xml and .bin): NNCF's INT8 model of the converted Keras model, calibrated on all `count` batches;
    options: nncf.quantize's by its names (vsq.configuration.recipes), over NNCF_OPTIONS."""
    converted = _convert(model)

    class Batches:
        """Re-iterable: NNCF may pass over the data more than once."""

        def __iter__(self):
            return iter(batches())

        def __len__(self):
            return count

    with telemetry_off():
        import nncf

        nncf.set_log_level(logging.ERROR)  # its WARNINGs are about defaults we keep on purpose
        with contextlib.redirect_stdout(io.StringIO()):  # its progress bars
            # subset_size counts dataset items, which are batches here: all of them unless written.
            quantized = nncf.quantize(converted, nncf.Dataset(Batches()),
                                      **nncf_arguments(nncf, {"subset_size": count, **NNCF_OPTIONS, **(options or {})}))
    return _save(quantized, dest)


def nncf_arguments(nncf, options: dict) -> dict:
    """nncf.quantize's keyword arguments from options as written (names of its enums, the ignored scope's lists)."""
    out = dict(options)
    if "preset" in out:
        out["preset"] = nncf.QuantizationPreset(out["preset"])
    if "model_type" in out:
        out["model_type"] = nncf.ModelType(out["model_type"])
    if "target_device" in out:
        out["target_device"] = nncf.TargetDevice[out["target_device"]]
    if "ignored_scope" in out:
        out["ignored_scope"] = nncf.IgnoredScope(**out["ignored_scope"])
    return out


def _convert(model):
    ov = openvino_module()
    with telemetry_off():  # the converter reports each call
        return ov.convert_model(model)


def _save(model, dest: Path) -> Path:
    ov = openvino_module()
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="vsq-openvino-") as folder:
        saved = Path(folder) / "model.xml"
        ov.save_model(model, str(saved), compress_to_fp16=False)
        for source, target in ((saved.with_suffix(".bin"), dest.with_suffix(".bin")), (saved, dest)):  # .xml last
            with atomic.atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
    return dest
