"""Load and validate a configuration file (the spec's configuration.json, or the same as YAML).

Validation happens in three steps, each raising ConfigError(file, key, message):
1. syntax (JSON or YAML), what JSON Schema cannot see (non-finite numbers, YAML anchors, aliases
   and types, deep nesting) and keys: retired and unknown keys, with a "did you mean";
2. the JSON Schema shipped in vsq/schema (types, ranges, enums);
3. meaning: paths exist, are of the right kind and are not symbolic links (the model file is its
   framework's to check: vsq.pipeline.job).
Steps 1 and 2, the schema and its defaults live in vsq.configuration.file. Checks that need the images
(vsq.configuration.datasets) or the model (vsq.frameworks.keras.models) build on this.

Defaults are written once, in the schema: the dataclasses below take theirs from it (schema_default).

Nothing here imports TensorFlow: a bad configuration is reported within the spec's 1.2 s.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from vsq.configuration.file import (  # noqa: F401 (MAX_DEPTH, schema, value_error_reason: re-exported)
    MAX_DEPTH,
    configuration_name,
    defaults,
    properties,
    read_checked,
    schema,
    schema_default,
    value_error_reason,
)
from vsq.errors import ConfigError
from vsq.configuration.preprocessing import Preprocessing
from vsq.configuration.repeats import CalibrationRepeats, calibration_repeats
from vsq.configuration.search import Search, search
from vsq.configuration.recipes import (  # noqa: F401 (Variant and the names: re-exported)
    DEFAULT_RECIPE_NAME, MCT_KINDS, REFERENCE_KEYS, VARIANT_KINDS, Quantization, Variant, check_bit_widths, quantization,
    variants)

PATH_KEYS = (  # every path key a configuration may have; Config.path_keys: those it has
    "source_keras_model",
    "source_pytorch_model",
    "dataset_image_dir",
    "output_dir",
    "evaluate_image_dir",
    "evaluate_label_file",
    "evaluate_result_dir",
)
@dataclass(frozen=True)
class Thresholds:
    """The accuracy gate. Drops are in percentage points, min_top1 a fraction (None: chance)."""

    max_top1_drop: float = schema_default("thresholds", "max_top1_drop")
    min_top1: float | None = schema_default("thresholds", "min_top1")
    # The float model's floor, a fraction; None: not near chance (vsq.core.verdicts.near_chance_limit)
    min_float_top1: float | None = schema_default("thresholds", "min_float_top1")
    max_float_top1_drop: float = schema_default("thresholds", "max_float_top1_drop")
    max_baseline_drop: float = schema_default("thresholds", "max_baseline_drop")
    max_latency_ms: dict = schema_default("thresholds", "max_latency_ms", compare=False)  # per model, ms per image
    decision_rule: str = schema_default("thresholds", "decision_rule")  # "point" or "confident" (vsq.statistics.paired)
    confidence: float = schema_default("thresholds", "confidence")  # of intervals and of the confident rule
    inconclusive: str = schema_default("thresholds", "inconclusive")  # "fail" or "pass"


@dataclass(frozen=True)
class TFLiteRuntime:
    """Which interpreter and kernels run the .tflite files; INT8 Top-1 depends on it."""

    interpreter: str = schema_default("tflite_runtime", "interpreter")
    op_resolver: str = schema_default("tflite_runtime", "op_resolver")
    num_threads: int = schema_default("tflite_runtime", "num_threads")  # resolved: null means the machine's cores
    batch_size: int = schema_default("tflite_runtime", "batch_size")
    instances: int | None = schema_default("tflite_runtime", "instances")  # None: the machine's cores

    @property
    def pool_size(self) -> int:
        """Interpreter instances per TFLite model in evaluation (instances, or the machine's cores)."""
        return self.instances or os.cpu_count() or 1


@dataclass(frozen=True)
class Imx500Check:
    """Sony's IMX500 converter run on model_quantized.keras: which converter, the memory limit, what to produce."""

    converter: Path | None = schema_default("imx500", "converter")  # None: .venv-imx500 of vsq, else PATH
    max_memory_utilization: float = schema_default("imx500", "max_memory_utilization")  # percent of on-chip memory
    output: str = schema_default("imx500", "output")  # "memory_report" or "full" (packerOut.zip too)

    @property
    def memory_report_only(self) -> bool:
        return self.output == "memory_report"


@dataclass(frozen=True)
class ExplanationSettings:
    """When to explain the quantized model's error per layer (MCT XQuant, vsq.sections.explanation), and on how many images."""

    when: str = schema_default("explanation", "when")  # "on_failure", "always" or "never"
    max_representative_images: int = schema_default("explanation", "max_representative_images")  # calibration
    max_validation_images: int = schema_default("explanation", "max_validation_images")  # evaluation sample


@dataclass(frozen=True)
class ScreenSettings:
    """The preprocessing screen (vsq.sections.screen): on how many images, and when an alternative beats the
    configuration clearly (a gain in points and a paired test, both required)."""

    enabled: bool = schema_default("screen", "enabled")
    max_images: int = schema_default("screen", "max_images")  # evaluation sample, spread over the folder
    min_gain_points: float = schema_default("screen", "min_gain_points")  # Top-1 gain on the sample, points
    max_p_value: float = schema_default("screen", "max_p_value")  # exact McNemar, times the alternatives compared


@dataclass(frozen=True)
class DetectionSettings:
    """"task": "detection": how the detector's boxes are read and how its mAP is judged (vsq.tasks.detection)."""

    box_order: str = schema_default("detection", "box_order")  # "yxyx" or "xyxy"
    boxes_normalized: bool = schema_default("detection", "boxes_normalized")  # 0..1 of the input, else input pixels
    class_offset: int = schema_default("detection", "class_offset")  # category_id = class index + class_offset
    max_map_drop: float = schema_default("detection", "max_map_drop")  # points, mAP@[.5:.95] and mAP@.5
    min_map: float | None = schema_default("detection", "min_map")  # points of mAP@[.5:.95]; None: above chance
    min_score: float = schema_default("detection", "min_score")  # detections below it are left out
    bootstrap_resamples: int = schema_default("detection", "bootstrap_resamples")


@dataclass(frozen=True)
class ExpectedTop1:
    """The float model's published or previously measured Top-1 (a fraction) and how far below it the
    measured one may be (percentage points)."""

    top1: float
    tolerance_points: float = schema_default("expected_top1", "tolerance_points")

    @property
    def floor(self) -> float:
        """The lowest Top-1 that meets the expectation, a fraction."""
        return max(0.0, self.top1 - self.tolerance_points / 100.0)


@dataclass(frozen=True)
class PytorchArchitecture:
    """The nn.Module a PyTorch model's weights go into (vsq.frameworks.pytorch.architecture)."""

    entry_point: str  # "package.module:callable" or "path/file.py:callable"
    arguments: dict = field(default_factory=dict)  # its keyword arguments


@dataclass(frozen=True)
class Config:
    """A validated configuration; paths are absolute, resolved against the file's folder.

    Built by load_config from the file and the schema's defaults. Fields after the spec's keys are in
    the order results.json lists them (as_dict).
    """

    source_keras_model: Path | None  # exactly one of the two sources is set
    dataset_image_dir: Path
    batch_size: int
    input_tensor_size: int
    iteration_count: int
    output_dir: Path
    evaluate_image_dir: Path
    evaluate_image_extension: str
    evaluate_label_file: Path
    evaluate_result_dir: Path
    source_pytorch_model: Path | None
    pytorch_architecture: PytorchArchitecture | None
    name: str
    file: Path
    seed: int
    calibration_repeats: CalibrationRepeats  # builds per recipe, one per seeded calibration draw
    search: Search | None  # None: no search
    target_platform: str
    quantization: Quantization  # the default recipe's options
    unreadable_images: str
    allow_unsafe_model_code: bool
    preprocessing: Preprocessing
    thresholds: Thresholds
    tflite_runtime: TFLiteRuntime
    baseline: Path | None
    variants: tuple[Variant, ...]
    imx500: Imx500Check | None  # None: the converter is not run
    explanation: ExplanationSettings  # always present: an absent section means the defaults
    screen: ScreenSettings  # always present: an absent section means the defaults
    expected_top1: ExpectedTop1 | None  # None: no expectation, no check
    task: str  # what the model's outputs mean and how they are judged: a key of vsq.tasks.TASKS
    detection: DetectionSettings | None  # "task": "detection" only
    raw: dict = field(compare=False)  # the file's content as written

    @property
    def path_keys(self) -> tuple[str, ...]:
        """The path keys this configuration has (its one model source, then the spec's folders and files)."""
        return tuple(key for key in PATH_KEYS if getattr(self, key) is not None)

    @property
    def source_key(self) -> str:
        """The key of the model to quantize: source_keras_model or source_pytorch_model."""
        return self.path_keys[0]

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
        """The configuration as used, for results.json: the spec's keys as written, the resolved paths
        (<key>_resolved), then every other field with its defaults filled in (paths as strings)."""
        spec = [self.source_key, *schema()["required"]]
        out = {key: self.raw[key] for key in spec}
        out.update({f"{key}_resolved": str(getattr(self, key)) for key in self.path_keys})
        fields = asdict(self, dict_factory=lambda pairs: {key: _plain(value) for key, value in pairs})
        fields["preprocessing"].pop("size")  # it is input_tensor_size
        unused = {key for key in ("source_keras_model", "source_pytorch_model", "pytorch_architecture", "detection")
                  if fields[key] is None}  # the other framework's keys; another task's
        out.update({key: value for key, value in fields.items() if key not in spec and key != "raw" and key not in unused})
        return out


def _plain(value):
    """A field value as JSON holds it: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def load_config(path: str | os.PathLike, data: dict | None = None) -> Config:
    """Read, validate and resolve one configuration file (or `data`, as if that file held it: its paths are relative
    to the file's folder); raise ConfigError on any problem."""
    file = Path(os.path.abspath(path))
    data = read_checked(file, data)
    config = _build(file, data)
    check_bit_widths(file, config.target_platform, config.quantization,
                     {"variants": config.variants, "search.candidates": config.search.candidates if config.search else ()})
    _check_paths(config)
    return config


def _resolve(base: Path, written: str) -> Path:
    return Path(os.path.normpath(base / os.path.expanduser(written)))


def _build(file: Path, data: dict) -> Config:
    values = {**defaults(), **data}
    thresholds = Thresholds(**data.get("thresholds", {}))
    runtime = TFLiteRuntime(**data.get("tflite_runtime", {}))
    if runtime.num_threads is None:
        runtime = replace(runtime, num_threads=os.cpu_count() or 1)
    return Config(
        **{key: _resolve(file.parent, data[key]) if key in data else None for key in PATH_KEYS},
        pytorch_architecture=PytorchArchitecture(**data["pytorch_architecture"]) if "pytorch_architecture" in data
        else None,
        batch_size=int(data["batch_size"]),
        input_tensor_size=int(data["input_tensor_size"]),
        iteration_count=int(data["iteration_count"]),
        evaluate_image_extension=data["evaluate_image_extension"].lstrip("."),
        name=configuration_name(file, data),
        file=file,
        seed=int(values["seed"]),
        calibration_repeats=calibration_repeats(file, data, bool(data.get("variants"))),
        search=search(file, data, thresholds),
        target_platform=values["target_platform"],
        unreadable_images=values["unreadable_images"],
        allow_unsafe_model_code=bool(values["allow_unsafe_model_code"]),
        preprocessing=_preprocessing(file, data),
        thresholds=thresholds,
        tflite_runtime=runtime,
        baseline=_resolve(file.parent, data["baseline"]) if data.get("baseline") else None,
        quantization=quantization(file, data),
        variants=variants(file, data.get("variants", []), thresholds, pytorch="source_pytorch_model" in data),
        imx500=_imx500(file, data["imx500"]) if "imx500" in data else None,
        explanation=ExplanationSettings(**data.get("explanation", {})),
        screen=ScreenSettings(**data.get("screen", {})),
        expected_top1=ExpectedTop1(**data["expected_top1"]) if "expected_top1" in data else None,
        task=values["task"],
        detection=_detection(file, data, values["task"]),
        raw=data,
    )


# Keys of the classification-only parts (sections that do not know detection, given files, the label scan's
# selection): with "task": "detection" they would be ignored, so they are refused instead.
CLASSIFICATION_ONLY = ("quantized_model", "models", "variants", "calibration_repeats", "search", "expected_top1",
                       "explanation", "screen", "evaluate_classes", "evaluate_subsample")


def _detection(file: Path, data: dict, task: str) -> DetectionSettings | None:
    if task != "detection":
        if "detection" in data:
            raise ConfigError(file, "detection", f"is only read with \"task\": \"detection\" (task is {task}); "
                              "remove it, or set \"task\": \"detection\"")
        return None
    unread = [key for key in CLASSIFICATION_ONLY if key in data]
    if unread:
        raise ConfigError(file, unread[0], "is not read with \"task\": \"detection\" yet (vsq gates a detector's own "
                          "build: no given files, variants, search, calibration draws or Top-1 settings); "
                          "remove it")
    mode = (data.get("preprocessing") or {}).get("mode")
    if mode == "shorter_side":  # a crop cuts boxes off: a detector's image is stretched or letterboxed whole
        raise ConfigError(file, "preprocessing.mode", "\"shorter_side\" crops the image, and a detector's boxes "
                          "are mapped back to the whole image; set \"square\" (stretch) or \"letterbox\", as the "
                          "model was trained")
    return DetectionSettings(**data.get("detection", {}))


def _imx500(file: Path, written: dict) -> Imx500Check:
    converter = written.get("converter")
    return Imx500Check(**{**written, "converter": _resolve(file.parent, converter) if converter else None})


def _preprocessing(file: Path, data: dict) -> Preprocessing:
    written = data.get("preprocessing", {})
    preprocessing = Preprocessing(size=int(data["input_tensor_size"]), **written)
    if "crop_pct" in written and preprocessing.mode != "shorter_side":
        raise ConfigError(file, "preprocessing.crop_pct", f"is only used with \"mode\": \"shorter_side\" (mode is "
                          f"{preprocessing.mode}); remove crop_pct, or set \"mode\": \"shorter_side\" to crop")
    return preprocessing


def _check_paths(config: Config) -> None:
    for key in config.path_keys:
        _refuse_symlinks(config, key)
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
