"""Load and validate a configuration file (the spec's configuration.json, or the same as YAML).

Validation happens in three steps, each raising ConfigError(file, key, message):
1. syntax (JSON or YAML), what JSON Schema cannot see (non-finite numbers, YAML anchors, aliases
   and types, deep nesting) and keys: retired and unknown keys, with a "did you mean";
2. the JSON Schema shipped in vsq/schema (types, ranges, enums);
3. meaning: paths exist, are of the right kind and are not symbolic links.
Checks that need the images (vsq.datasets) or the model (vsq.models) build on this.

Nothing here imports TensorFlow: a bad configuration is reported within the spec's 1.2 s.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from vsq.errors import ConfigError

SCHEMA_PATH = Path(__file__).parent / "schema" / "configuration.schema.json"

PATH_KEYS = (
    "source_keras_model",
    "dataset_image_dir",
    "output_dir",
    "evaluate_image_dir",
    "evaluate_label_file",
    "evaluate_result_dir",
)
RETIRED_KEYS = {
    "evaluate_ground_truth_file": (
        "was replaced by evaluate_label_file (a labels.json mapping class name to id, with the "
        "evaluation images in one folder per class); remove it and set evaluate_label_file"
    ),
}
KERAS_MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
# Levels of lists and objects; a configuration needs 4 (the file, variants, a variant, its thresholds).
# The bound keeps the parsers and the checks far from Python's recursion limit.
MAX_DEPTH = 10
JSON_TYPES = (dict, list, str, int, float, type(None))  # bool is an int


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of the configuration file (also usable by editors)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _defaults(section: str) -> dict:
    props = schema()["properties"][section]["properties"]
    return {name: spec.get("default") for name, spec in props.items()}


@dataclass(frozen=True)
class Preprocessing:
    """Resize to a square of input_tensor_size with a Pillow filter, then (pixel - mean) / std."""

    resize: str = "bilinear"
    normalization: Any = "[0,1]"

    @property
    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel mean and std in 0..255 pixel units."""
        named = {
            "[0,1]": ((0.0,) * 3, (255.0,) * 3),
            "[-1,1]": ((127.5,) * 3, (127.5,) * 3),
            "[0,255]": ((0.0,) * 3, (1.0,) * 3),
        }
        if isinstance(self.normalization, str):
            return named[self.normalization]
        return tuple(self.normalization["mean"]), tuple(self.normalization["std"])


@dataclass(frozen=True)
class Thresholds:
    """The accuracy gate. Drops are in percentage points, min_top1 a fraction (None: chance)."""

    max_top1_drop: float = 1.0
    min_top1: float | None = None
    max_float_top1_drop: float = 0.5
    max_baseline_drop: float = 0.5
    max_latency_ms: dict = field(default_factory=dict, compare=False)  # per model, ms per image


MCT_KINDS = ("mct_ptq", "mct_gptq", "mct_mixed_precision")
VARIANT_KINDS = (
    *MCT_KINDS,
    "tf_dynamic_range", "tf_float16", "tf_integer_float_fallback", "tf_full_integer",
)


@dataclass(frozen=True)
class Variant:
    """A quantization recipe compared with the default model; exported to model_<name>.tflite."""

    name: str
    kind: str
    target_platform: str | None = None  # mct_* kinds
    epochs: int = 5  # mct_gptq
    weights_memory_fraction: float = 0.75  # mct_mixed_precision
    io_type: str = "int8"  # tf_full_integer
    max_top1_drop: float = 1.0  # percentage points against Keras
    min_top1: float | None = None  # fraction; None: better than chance

    @property
    def file_name(self) -> str:
        return f"model_{self.name}.tflite"


@dataclass(frozen=True)
class TFLiteRuntime:
    """Which interpreter and kernels run the .tflite files; INT8 Top-1 depends on it."""

    interpreter: str = "tensorflow"
    op_resolver: str = "builtin_without_default_delegates"
    num_threads: int = 1  # resolved: null in the file means the machine's cores
    batch_size: int = 1


@dataclass(frozen=True)
class Config:
    """A validated configuration; paths are absolute, resolved against the file's folder."""

    file: Path
    name: str
    source_keras_model: Path
    dataset_image_dir: Path
    batch_size: int
    input_tensor_size: int
    iteration_count: int
    output_dir: Path
    evaluate_image_dir: Path
    evaluate_image_extension: str
    evaluate_label_file: Path
    evaluate_result_dir: Path
    seed: int = 0
    target_platform: str = "imx500"
    unreadable_images: str = "fail"
    allow_unsafe_model_code: bool = False
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    thresholds: Thresholds = field(default_factory=Thresholds)
    tflite_runtime: TFLiteRuntime = field(default_factory=TFLiteRuntime)
    baseline: Path | None = None
    variants: tuple[Variant, ...] = ()
    raw: dict = field(default_factory=dict, compare=False)

    def error(self, key: str | None, message: str) -> ConfigError:
        """A ConfigError for key; a message that starts with shown(key) drops the repeated key name."""
        if key in PATH_KEYS and message.startswith(self.shown(key)):
            message = self._as_written(key) + message[len(self.shown(key)):]
        return ConfigError(self.file, key, message)

    def shown(self, key: str) -> str:
        """A path key with its value as written and as resolved, for messages: 'key (./a -> /x/a)'."""
        return f"{key} ({self._as_written(key)})"

    def _as_written(self, key: str) -> str:
        written, resolved = self.raw.get(key), getattr(self, key)
        return str(written) if str(written) == str(resolved) else f"{written} -> {resolved}"

    def as_dict(self) -> dict:
        """The configuration as used (resolved paths and defaults filled in), for results.json."""
        out = {key: self.raw[key] for key in schema()["required"]}
        out.update({f"{key}_resolved": str(getattr(self, key)) for key in PATH_KEYS})
        out.update(
            name=self.name,
            file=str(self.file),
            seed=self.seed,
            target_platform=self.target_platform,
            unreadable_images=self.unreadable_images,
            allow_unsafe_model_code=self.allow_unsafe_model_code,
            preprocessing={"resize": self.preprocessing.resize, "normalization": self.preprocessing.normalization},
            thresholds=vars(self.thresholds).copy(),
            tflite_runtime=vars(self.tflite_runtime).copy(),
            baseline=str(self.baseline) if self.baseline else None,
            variants=[vars(variant).copy() for variant in self.variants],
        )
        return out


def load_config(path: str | os.PathLike) -> Config:
    """Read, validate and resolve one configuration file; raise ConfigError on any problem."""
    file = Path(os.path.abspath(path))
    data = _read(file)
    _check_values(file, data)
    _check_keys(file, data)
    _check_schema(file, data)
    config = _build(file, data)
    _check_paths(config)
    return config


def _read(file: Path) -> dict:
    if file.is_symlink():
        raise ConfigError(file, None, "is a symbolic link; the spec refuses them: use the file itself")
    if file.is_dir():
        raise ConfigError(file, None, "is a directory; a configuration file is expected: give the file itself, "
                          f"e.g. {file / 'configuration.json'}")
    if file.exists() and not file.is_file():
        raise ConfigError(file, None, "is not a regular file; give the configuration file (.json, .yaml or .yml)")
    if not file.is_file():
        hint = "" if file.suffix else " (give the file, e.g. configuration.json)"
        raise ConfigError(file, None, f"no such file{hint}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(file, None, f"cannot be read ({error}); save it as UTF-8 text") from None
    parse = _parse_yaml if file.suffix.lower() in (".yaml", ".yml") else _parse_json
    try:
        data = parse(file, text)
    except ValueError as error:
        raise ConfigError(file, None, f"holds a value that cannot be read ({value_error_reason(error)}); write a "
                          "plain number or string there") from None
    if not isinstance(data, dict):
        raise ConfigError(file, None, f"must hold an object of keys and values, not {_type_name(data)}")
    return data


def value_error_reason(error: ValueError) -> str:
    """Why a parser could not build a value (an integer beyond Python's 4300 digits, a YAML date like
    2024-13-01), without Python's advice to raise the digit limit."""
    return str(error).split(";")[0]


def _parse_json(file: Path, text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=lambda pairs: _no_duplicates(file, pairs))
    except json.JSONDecodeError as error:
        raise ConfigError(
            file, None, f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}; fix the syntax there"
        ) from None
    except RecursionError:  # hundreds of nested brackets
        raise ConfigError(file, None, _too_deep("")) from None


def _no_duplicates(file: Path, pairs: list) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigError(file, key, "appears twice; keep one")
        seen[key] = value
    return seen


def _parse_yaml(file: Path, text: str) -> Any:
    import yaml  # only YAML users pay for the import

    try:
        _refuse_expansion(file, yaml.parse(text, Loader=yaml.SafeLoader))
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(file, None, f"is not valid YAML: {problem}{where}; fix the syntax there") from None


NO_ANCHORS = "anchors and aliases are not supported in a configuration: write the values out"


def _refuse_expansion(file: Path, events) -> None:
    """Refuse, before anything is built, what lets a small YAML file become a huge or deep document.

    Nine anchors of nine aliases each ("billion laughs") expand 1 KB into 10^9 values, and merge keys
    (<<: *base) need aliases too; a configuration needs neither. Parsing events is flat (no recursion).
    """
    import yaml

    depth = 0
    for event in events:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(file, None, f"uses a YAML alias (*{event.anchor}) at line {line}; {NO_ANCHORS}")
        if getattr(event, "anchor", None):
            raise ConfigError(file, None, f"sets a YAML anchor (&{event.anchor}) at line {line}; {NO_ANCHORS}")
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(file, None, _too_deep(f" at line {line}"))


def _too_deep(where: str) -> str:
    return (f"nests lists and objects more than {MAX_DEPTH} levels deep{where}; a configuration needs 4 at most: "
            "remove the extra brackets")


def _check_values(file: Path, value: Any, path: tuple = ()) -> None:
    """Refuse what the JSON Schema lets through: NaN and infinities (its "number" accepts them), YAML-only
    types (dates, binary, sets), keys that are not strings, and deep nesting."""
    key = ".".join(map(str, path)) or None
    if not isinstance(value, JSON_TYPES):
        raise ConfigError(file, key, f"is {_type_name(value)}, which a configuration cannot hold; "
                          "write it in quotes as a string, or as a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(file, key, f"{json.dumps(value)} is not a finite number (NaN, Infinity and numbers beyond "
                          "1.8e308 are refused); write a finite number")
    if not isinstance(value, (dict, list)):
        return
    if len(path) >= MAX_DEPTH:
        raise ConfigError(file, str(path[0]), _too_deep(""))
    for name, child in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(value, dict) and not isinstance(name, str):
            raise ConfigError(file, key, f"has the key {name!r}, which is {_type_name(name)}, not a string; "
                              "put it in quotes")
        _check_values(file, child, (*path, name))


def _check_keys(file: Path, data: dict) -> None:
    known = list(schema()["properties"])
    for key in data:
        if key in RETIRED_KEYS:
            raise ConfigError(file, key, RETIRED_KEYS[key])
        if key not in known:
            raise ConfigError(file, key, f"unknown key; {_did_you_mean(key, known)}")
    for section in ("preprocessing", "thresholds", "tflite_runtime"):
        if isinstance(data.get(section), dict):
            allowed = list(schema()["properties"][section]["properties"])
            for key in data[section]:
                if key not in allowed:
                    raise ConfigError(file, f"{section}.{key}", f"unknown key; {_did_you_mean(key, allowed)}")
    missing = [key for key in schema()["required"] if key not in data]
    if missing:
        key = missing[0]
        default = schema()["properties"][key].get("default")
        example = default if default is not None else schema()["properties"][key]["examples"][0]
        raise ConfigError(
            file, key, f"is missing (all spec keys are required); add it, e.g. \"{key}\": {json.dumps(example)}"
        )


def _did_you_mean(key, allowed: list) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else f"known keys: {', '.join(allowed)}"


def _check_schema(file: Path, data: dict) -> None:
    import jsonschema  # imported here so that `import vsq.config` stays light

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.validator))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    key = ".".join(str(part) for part in error.absolute_path) or None
    raise ConfigError(file, key, _explain(error))


def _explain(error) -> str:
    """Turn a jsonschema error into 'bad value; what to write instead'."""
    value = json.dumps(error.instance, ensure_ascii=False)
    spec = error.schema
    kind = error.validator
    if kind == "type":
        wanted = spec["type"] if isinstance(spec["type"], str) else " or ".join(spec["type"])
        return f"{value} is {_type_name(error.instance)}; write {'an' if wanted[0] in 'aeiou' else 'a'} {wanted}"
    if kind in ("minimum", "exclusiveMinimum"):
        bound = ">=" if kind == "minimum" else ">"
        return f"{value} is too small; use a value {bound} {error.validator_value}"
    if kind == "maximum":
        return f"{value} is too large; use a value <= {error.validator_value}"
    if kind == "minLength":
        return "is empty; give a path or value"
    if kind == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return f"{value} is not supported; use one of {choices}"
    if kind == "oneOf" and len(error.absolute_path) == 2 and error.absolute_path[0] == "variants":
        return f"{value} is not a variant; use one of {', '.join(VARIANT_KINDS)}, or an object with \"kind\""
    if kind == "oneOf" and "normalization" in list(error.absolute_path):
        return (f"{value} is not a normalization; use \"[0,1]\", \"[-1,1]\", \"[0,255]\" or "
                "{\"mean\": [r, g, b], \"std\": [r, g, b]} in 0..255 units")
    if kind == "pattern" and "errorMessage" in spec:  # ajv-errors' keyword: the pattern in words
        return f"{value} {spec['errorMessage']}"
    if kind == "pattern":
        return f"{value} is not allowed here; {spec.get('description', 'see the schema')}"
    if kind in ("minItems", "maxItems"):
        return f"{value} must have exactly 3 numbers (R, G, B)"
    if kind == "required":
        return f"{error.message}; add it"
    if kind == "additionalProperties":
        allowed = list(spec.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        hint = _did_you_mean(extra[0], allowed) if extra else f"known keys: {', '.join(allowed)}"
        return f"unknown key {json.dumps(extra[0]) if extra else ''}; {hint}"
    return f"{value}: {error.message}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a YAML {type(value).__name__}"  # a date, bytes (!!binary), a set


def _build(file: Path, data: dict) -> Config:
    base = file.parent
    paths = {key: Path(os.path.normpath(base / os.path.expanduser(data[key]))) for key in PATH_KEYS}
    preprocessing = {**_defaults("preprocessing"), **data.get("preprocessing", {})}
    thresholds = {**_defaults("thresholds"), **data.get("thresholds", {})}
    runtime = {**_defaults("tflite_runtime"), **data.get("tflite_runtime", {})}
    runtime["num_threads"] = runtime["num_threads"] or os.cpu_count() or 1
    thresholds_ = Thresholds(**thresholds)
    baseline = Path(os.path.normpath(base / os.path.expanduser(data["baseline"]))) if data.get("baseline") else None
    return Config(
        file=file,
        name=data.get("name") or file.stem,
        batch_size=int(data["batch_size"]),
        input_tensor_size=int(data["input_tensor_size"]),
        iteration_count=int(data["iteration_count"]),
        evaluate_image_extension=data["evaluate_image_extension"].lstrip("."),
        seed=int(data.get("seed", 0)),
        target_platform=data.get("target_platform", "imx500"),
        unreadable_images=data.get("unreadable_images", "fail"),
        allow_unsafe_model_code=bool(data.get("allow_unsafe_model_code", False)),
        preprocessing=Preprocessing(**preprocessing),
        thresholds=thresholds_,
        tflite_runtime=TFLiteRuntime(**runtime),
        baseline=baseline,
        variants=_variants(file, data.get("variants", []), thresholds_),
        raw=data,
        **paths,
    )


def _variants(file: Path, items: list, thresholds: Thresholds) -> tuple[Variant, ...]:
    """Variants as written (a kind, or an object with options), with names and thresholds filled in."""
    variants = []
    for item in items:
        spec = {"kind": item} if isinstance(item, str) else dict(item)
        limits = spec.pop("thresholds", {})
        variant = Variant(
            name=spec.pop("name", None) or _variant_name(spec),
            max_top1_drop=limits.get("max_top1_drop", thresholds.max_top1_drop),
            min_top1=limits.get("min_top1", thresholds.min_top1),
            **spec,
        )
        if variant.file_name == "model_quantized.tflite":
            raise ConfigError(file, "variants", f"a variant named {variant.name!r} would overwrite "
                              "model_quantized.tflite; give it another \"name\"")
        if any(v.name == variant.name for v in variants):
            raise ConfigError(file, "variants", f"two variants are named {variant.name!r}; give one a \"name\"")
        variants.append(variant)
    return tuple(variants)


def _variant_name(spec: dict) -> str:
    kind = spec["kind"]
    if kind == "mct_ptq":
        return f"mct_ptq_{spec.get('target_platform', 'default')}"
    if kind == "tf_full_integer":
        return f"tf_full_integer_{spec.get('io_type', 'int8')}"
    return kind


def _check_paths(config: Config) -> None:
    for key in PATH_KEYS:
        _refuse_symlinks(config, key)
    model = config.source_keras_model
    if not model.exists():
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')}: no such file or directory; "
                           "give an .h5 file, a .keras file or a SavedModel directory")
    if model.is_dir() and not (model / "saved_model.pb").is_file():
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} is a directory without "
                           "saved_model.pb; give a SavedModel directory, an .h5 file or a .keras file")
    if model.is_file() and model.suffix.lower() not in KERAS_MODEL_SUFFIXES:
        raise config.error("source_keras_model", f"{config.shown('source_keras_model')} is not a Keras model file; "
                           "give an .h5 file, a .keras file or a SavedModel directory")
    for key in ("dataset_image_dir", "evaluate_image_dir"):
        path = getattr(config, key)
        if not path.is_dir():
            what = "is not a directory" if path.exists() else "does not exist"
            raise config.error(key, f"{config.shown(key)} {what}; give the folder of images")
    label_file = config.evaluate_label_file
    if not label_file.is_file():
        what = "is not a file" if label_file.exists() else "does not exist"
        raise config.error("evaluate_label_file", f"{config.shown('evaluate_label_file')} {what}; "
                           "give the labels.json file mapping class name to id")
    for key in ("output_dir", "evaluate_result_dir"):
        _check_writable_dir(config, key)


def _refuse_symlinks(config: Config, key: str) -> None:
    """Refuse a symbolic link anywhere in the path as the user wrote it (spec)."""
    written = Path(os.path.expanduser(config.raw[key]))
    start = Path(written.anchor) if written.is_absolute() else config.file.parent
    current = start
    for part in written.parts[1 if written.is_absolute() else 0:]:
        current = current / part
        try:
            linked = part not in (".", "..") and current.is_symlink()
        except OSError as error:  # a name longer than the file system allows, a folder we may not enter
            raise config.error(key, f"{config.shown(key)}: {current} cannot be checked ({error.strerror}); "
                               "give a path that exists and can be read") from None
        if linked:
            raise config.error(key, f"{config.shown(key)}: {current} is a symbolic link; the spec refuses them: "
                               "point at the real file or folder")


def _check_writable_dir(config: Config, key: str) -> None:
    path = getattr(config, key)
    if path.exists():
        if not path.is_dir():
            raise config.error(key, f"{config.shown(key)} exists and is not a directory; give a folder")
        target = path
    else:
        target = next(parent for parent in path.parents if parent.exists())
        if not target.is_dir():
            raise config.error(key, f"{config.shown(key)}: {target} is not a directory, so the folder cannot be created")
    if not os.access(target, os.W_OK | os.X_OK):
        raise config.error(key, f"{config.shown(key)}: {target} is not writable; choose a writable folder or fix its permissions")
