"""Model files a configuration names that vsq did not make (`quantized_model`, `models`): read as written, with
the checks that need no file content (docs/given-files.md).

A given file is untrusted data, like the configuration that names it: its path is relative to the
configuration's folder and holds no symbolic link (as every path key), it is a regular file of a format vsq reads
(.tflite, .onnx, an OpenVINO .xml with its .bin beside it, MCT's quantized .keras), and its size is bounded
before anything reads it. What the file holds (its operators, its input contract) is checked by
vsq.pipeline.given before any heavy work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vsq.errors import ConfigError

GIVEN_QUANTIZED = "given_quantized"  # results.json's key of the quantized_model file (vsq.core.reference)
FORMATS = {".tflite": "tflite", ".onnx": "onnx", ".xml": "openvino", ".keras": "keras"}
# A given file, with its .bin: ONNX's protobuf limit (2 GiB), far above any edge model.
MAX_GIVEN_BYTES = 2 * 1024 ** 3


@dataclass(frozen=True)
class GivenFile:
    """One given file: its name in results.json, the key that names it, where it is, what the configuration says
    of its input, and the thresholds that judge it."""

    name: str
    key: str  # "quantized_model" or "models[i].file": where a message points
    written: str
    path: Path
    role: str  # "quantized" (quantized_model) or "compared" (models)
    layout: str | None  # NHWC / NCHW as written; None: read from the file
    input_type: str | None  # float32 / int8 / uint8 as written; None: read from the file
    max_top1_drop: float
    min_top1: float | None

    @property
    def format(self) -> str:
        return FORMATS[self.path.suffix]

    @property
    def files(self) -> list[Path]:
        """The file and its companion (an OpenVINO IR's .bin)."""
        return [self.path, *([self.path.with_suffix(".bin")] if self.format == "openvino" else [])]


def given_files(config) -> tuple[GivenFile, ...]:
    """The configuration's given files (quantized_model first), checked as written; ConfigError naming the key."""
    return _given(config.file, _frozen(config.raw.get("quantized_model")), _frozen(config.raw.get("models")),
                  config.thresholds, tuple(variant.name for variant in config.variants),
                  config.raw.get("imx500") is not None)


def _frozen(value):
    """A JSON value as a hashable one (the lru_cache key)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


@lru_cache(maxsize=64)
def _given(file: Path, quantized, models, thresholds, variant_names: tuple, imx500: bool) -> tuple[GivenFile, ...]:
    from vsq.configuration.config import DEFAULT_RECIPE_NAME, REFERENCE_KEYS

    given = []
    if quantized is not None:
        spec = dict(quantized) if isinstance(quantized, tuple) else {"file": quantized}
        if imx500:
            raise ConfigError(file, "quantized_model", "and imx500 are both given; the IMX500 converter reads MCT's "
                              "quantized model, which vsq does not build for a given file: remove imx500, or "
                              "remove quantized_model to let vsq quantize")
        given.append(_one(file, GIVEN_QUANTIZED, "quantized_model", spec, "quantized", thresholds.max_top1_drop,
                          thresholds.min_top1))
    for index, item in enumerate(models or ()):
        spec = dict(item)
        limits = dict(spec.get("thresholds", ()))
        name = spec["name"]
        if name in (DEFAULT_RECIPE_NAME, GIVEN_QUANTIZED, *REFERENCE_KEYS, *variant_names) or \
                any(other.name == name for other in given):
            raise ConfigError(file, f"models.{index}.name", f"{name!r} is already the name of a model of this run "
                              "(a variant, a reference model or another given file); give it another \"name\"")
        given.append(_one(file, name, f"models.{index}.file", spec, "compared",
                          limits.get("max_top1_drop", thresholds.max_top1_drop),
                          limits.get("min_top1", thresholds.min_top1)))
    return tuple(given)


def _one(file: Path, name: str, key: str, spec: dict, role: str, max_top1_drop: float, min_top1) -> GivenFile:
    written = spec["file"]
    path = Path(os.path.normpath(file.parent / os.path.expanduser(written)))
    given = GivenFile(name, key, written, path, role, spec.get("layout"), spec.get("input_type"), max_top1_drop,
                      min_top1)
    refuse_links(file, key, written)
    total = 0
    for part in given.files:
        if part.is_symlink():
            raise ConfigError(file, key, f"{written}: {part.name} is a symbolic link; the spec refuses them: give the "
                              "real file")
        if not part.is_file():
            what = "is not a regular file" if part.exists() else "does not exist"
            need = "; an OpenVINO IR is its .xml and the .bin of the same name beside it" if part.suffix == ".bin" else ""
            raise ConfigError(file, key, f"{written}: {part.name} {what}{need}; give the path of your model file, "
                              "relative to the configuration's folder")
        total += part.stat().st_size
    if total > MAX_GIVEN_BYTES:
        raise ConfigError(file, key, f"{written} is {total:,} bytes, more than the {MAX_GIVEN_BYTES:,} vsq reads of a "
                          "given model; give an edge model's file")
    return given


def refuse_links(file: Path, key: str, written: str) -> None:
    """Refuse a symbolic link anywhere in a path as the user wrote it (spec); `file`: the configuration."""
    written_path = Path(os.path.expanduser(written))
    current = Path(written_path.anchor) if written_path.is_absolute() else file.parent
    for part in written_path.parts[1 if written_path.is_absolute() else 0:]:
        current = current / part
        try:
            linked = part not in (".", "..") and current.is_symlink()
        except OSError as error:  # a name longer than the file system allows, a folder we may not enter
            raise ConfigError(file, key, f"{written}: {current} cannot be checked ({error.strerror}); give a path "
                              "that exists and can be read") from None
        if linked:
            raise ConfigError(file, key, f"{written}: {current} is a symbolic link; the spec refuses them: point at "
                              "the real file or folder")
