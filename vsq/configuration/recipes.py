"""Recipes as data: the variants of a configuration and the default recipe's options (`"quantization"`).

A variant is a kind (`"mct_gptq"`), or an object with a kind, an optional name and `options` in the tool's own
names (MCT's QuantizationConfig fields, its GPTQ and mixed-precision settings, TensorFlow's converter attributes,
ONNX Runtime's quantize_static arguments, nncf.quantize's). The options each kind takes, with their types and
limits, are written once in the configuration's JSON Schema ($defs.recipe_options); check_options refuses any
other option, or a value out of its limits, in one line naming the option, the kind and what it accepts, before
any heavy work. The older flat keys (epochs, weights_memory_fraction, io_type, calibration_method,
target_platform) stay as shorthands; writing a shorthand and the option it stands for is refused.

Nothing here imports a framework: the frameworks turn the options into their tools' calls
(vsq.frameworks.keras.recipes, vsq.frameworks.pytorch.recipes), vsq.frameworks.recipe_options puts them in the
cache keys and in results.json.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from vsq.configuration.file import properties, schema, schema_default
from vsq.errors import ConfigError
from vsq.runtimes.kinds import runtimes_of, suffix_of

DEFAULT_RECIPE_NAME = "quantized"  # the default model's recipe: its file is model_quantized.tflite / .onnx
DEFAULT_RECIPE_KIND = "mct_ptq"
# results.json's reference model keys (= vsq.core.reference.BY_KEY, tests/test_registries.py): no variant's name
REFERENCE_KEYS = ("keras", "tflite", "tflite_quantized", "keras_quantized", "pytorch", "onnx_quantized",
                  "pytorch_quantized", "given_quantized")
# Kernel weight widths each MCT target platform offers (MCT 2.6.1's op sets, TPC 1.0: imx500 has them as mixed
# precision's candidates; tests/test_bit_widths.py reads them back from MCT): weights_n_bits takes only these.
WEIGHTS_BITS = {"imx500": (2, 4, 8), "tflite": (8,), "qnnpack": ()}
VARIANT_KINDS = tuple(properties("variants")["kind"]["enum"])
MCT_KINDS = tuple(kind for kind in VARIANT_KINDS if kind.startswith("mct_"))
# A shorthand key of a variant -> the kind that reads it and the options it stands for.
SHORTHANDS = {"epochs": ("mct_gptq", ("n_epochs",)),
              "weights_memory_fraction": ("mct_mixed_precision", ("weights_memory",)),
              "io_type": ("tf_full_integer", ("inference_input_type", "inference_output_type")),
              "calibration_method": ("onnxruntime_int8", ("calibrate_method",))}


@dataclass(frozen=True)
class Variant:
    """A quantization recipe compared with the default model; exported to model_<name>.tflite (.onnx, .xml)."""

    name: str
    kind: str
    target_platform: str | None = schema_default("variants", "target_platform")  # mct_*; None: the config's
    epochs: int = schema_default("variants", "epochs")  # mct_gptq
    weights_memory_fraction: float = schema_default("variants", "weights_memory_fraction")  # mct_mixed_precision
    io_type: str = schema_default("variants", "io_type")  # tf_full_integer
    calibration_method: str = schema_default("variants", "calibration_method")  # onnxruntime_int8
    runtime: str | None = None  # the runtime that evaluates its file (vsq.runtimes.kinds.BY_KEY); None: its suffix's
    # A variant's thresholds default to the configuration's (vsq.configuration.config fills them in).
    max_top1_drop: float = schema_default("thresholds", "max_top1_drop")  # percentage points against Keras
    min_top1: float | None = schema_default("thresholds", "min_top1")  # fraction; None: better than chance
    options: dict = field(default_factory=dict, hash=False)  # the tool's options as written (check_options)

    @property
    def file_name(self) -> str:
        """The file its runtime loads: model_<name>.tflite, .onnx, or .xml (OpenVINO's IR, beside its .bin)."""
        return f"model_{self.name}{suffix_of(self.kind)}"

    @property
    def file_names(self) -> tuple[str, ...]:
        """Every file of the built model (an OpenVINO IR is two)."""
        return (self.file_name, f"model_{self.name}.bin") if self.file_name.endswith(".xml") else (self.file_name,)

    @property
    def keras_file_name(self) -> str:
        """MCT kinds: MCT's quantized Keras model (fake-quantized, the IMX500 converter's input)."""
        return f"model_{self.name}.keras"


@dataclass(frozen=True)
class Quantization:
    """The default recipe's options (`"quantization": {"options": {...}}`), MCT's as for an mct_ptq variant."""

    options: dict = field(default_factory=dict, hash=False)


def kind_options(kind: str) -> dict:
    """Option name -> its JSON Schema, for one kind (the schema's $defs.recipe_options)."""
    return schema()["$defs"]["recipe_options"][kind]


def quantization(file: Path, data: dict) -> Quantization:
    """The default recipe's options, checked as an mct_ptq variant's."""
    written = data.get("quantization", {}).get("options", {})
    check_options(file, "quantization.options", DEFAULT_RECIPE_KIND, written)
    return Quantization(options=dict(written))


def variants(file: Path, items: list, thresholds, pytorch: bool) -> tuple[Variant, ...]:
    """Variants as written (a kind, or an object with options), with names and thresholds filled in."""
    out = []
    for i, item in enumerate(items):
        spec = {"kind": item} if isinstance(item, str) else dict(item)
        if pytorch and spec["kind"] not in MCT_KINDS:
            raise ConfigError(file, "variants", f"{spec['kind']} converts a Keras model (TensorFlow's converter, "
                              f"tf2onnx, OpenVINO); a PyTorch model is quantized by MCT: use {', '.join(MCT_KINDS)}")
        written = spec.pop("options", {})
        check_options(file, f"variants.{i}.options", spec["kind"], written)
        _check_shorthands(file, i, spec, written)
        _check_runtime(file, i, spec, pytorch)
        limits = spec.pop("thresholds", {})
        name = spec.pop("name", None)
        variant = Variant(name="", max_top1_drop=limits.get("max_top1_drop", thresholds.max_top1_drop),
                          min_top1=limits.get("min_top1", thresholds.min_top1), options=dict(written), **spec)
        variant = replace(variant, name=name or variant_name(variant))
        if variant.name == DEFAULT_RECIPE_NAME:
            raise ConfigError(file, "variants", f"a variant named {variant.name!r} would overwrite "
                              "model_quantized.tflite; give it another \"name\"")
        if variant.name in REFERENCE_KEYS:
            raise ConfigError(file, "variants", f"a variant named {variant.name!r} would be taken for the reference "
                              "model of that name in results.json and baselines; give it another \"name\"")
        if any(v.name == variant.name for v in out):
            raise ConfigError(file, "variants", f"two variants are named {variant.name!r}; give one a \"name\"")
        out.append(variant)
    return tuple(out)


def check_bit_widths(file: Path, platform: str, quantization: Quantization, written: dict[str, tuple]) -> None:
    """Refuse a weights_n_bits the recipe's target platform does not offer, in one line, before any heavy work.
    written: the variants by the key they are written under (variants, search.candidates)."""
    recipes = [("quantization.options", platform, quantization.options),
               *((f"{where}.{i}.options", variant.target_platform or platform, variant.options)
                 for where, variants in written.items() for i, variant in enumerate(variants))]
    for key, target, options in recipes:
        bits = options.get("weights_n_bits")
        offered = WEIGHTS_BITS.get(target, ())
        if bits is not None and bits not in offered:
            widths = (f"offers {', '.join(map(str, offered))}" if offered else
                      "sets no kernel width of its own: remove weights_n_bits")
            raise ConfigError(file, f"{key}.weights_n_bits", f"{bits} bits is not a width target platform {target} "
                              f"offers; it {widths}{'' if target == 'imx500' else ' (imx500 offers 2, 4, 8)'}")


def variant_name(variant: Variant) -> str:
    """A variant's name when it has none: its kind, with the option that tells two of a kind apart."""
    if variant.kind == "mct_ptq":
        return f"mct_ptq_{variant.target_platform or 'default'}"
    if variant.kind == "tf_full_integer":
        return f"tf_full_integer_{variant.options.get('inference_input_type', variant.io_type)}"
    return variant.kind


def check_options(file: Path, key: str, kind: str, written) -> None:
    """Refuse an option `kind` does not take, or a value out of its limits: one line naming the option, the
    kind and what it accepts."""
    import jsonschema

    if not isinstance(written, dict):  # the schema says object; a direct caller may not have checked
        raise ConfigError(file, key, f"is not an object; write {{\"option\": value}} with {kind}'s options")
    known = kind_options(kind)
    for name, value in written.items():
        if name not in known:
            raise ConfigError(file, f"{key}.{name}", f"is not an option of {kind}; {_choices(name, known, kind)}")
        spec = known[name]
        if not jsonschema.Draft202012Validator(spec).is_valid(value):
            raise ConfigError(file, f"{key}.{name}", f"{json.dumps(value)} is not accepted by {kind}; it takes "
                              f"{accepts(spec)}")


def _check_shorthands(file: Path, i: int, spec: dict, written: dict) -> None:
    for shorthand, (kind, names) in SHORTHANDS.items():
        both = [name for name in names if name in written]
        if shorthand in spec and both:
            raise ConfigError(file, f"variants.{i}.{shorthand}", f"and options.{both[0]} say the same thing; "
                              f"keep one (options.{both[0]} is {kind}'s own name)")


def _check_runtime(file: Path, i: int, spec: dict, pytorch: bool) -> None:
    """A variant's runtime must run its kind's file; a PyTorch model's files run on ONNX Runtime only."""
    runtime, kind = spec.get("runtime"), spec["kind"]
    if runtime is None:
        return
    if pytorch:
        raise ConfigError(file, f"variants.{i}.runtime", "applies to a Keras model's variants (a PyTorch model's "
                          "files run on ONNX Runtime); remove it")
    if runtime not in runtimes_of(kind):
        raise ConfigError(file, f"variants.{i}.runtime", f"{runtime} does not run {kind}'s {suffix_of(kind)} file; "
                          f"use one of {', '.join(runtimes_of(kind))} or remove it")


def _choices(name: str, known: dict, kind: str) -> str:
    if not known:
        return f"{kind} takes no options: remove \"options\""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    return f"{kind} takes {', '.join(known)}"


def accepts(spec: dict) -> str:
    """What an option's schema accepts, in words: 'true or false', 'one of "MSE", "MAE"', 'a number > 0'."""
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(choice) for choice in spec["enum"])
    kind = spec.get("type")
    if kind == "boolean":
        return "true or false"
    if kind == "object":
        return "an object with " + ", ".join(f"{name} ({accepts(inner)})" for name, inner in spec["properties"].items())
    if kind == "array":
        return f"a list of at most {spec['maxItems']} strings"
    limits = [f"{word} {spec[name]}" for name, word in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                        ("maximum", "<="), ("exclusiveMaximum", "<")) if name in spec]
    return f"{'an integer' if kind == 'integer' else 'a number'}{' ' + ' and '.join(limits) if limits else ''}"
