"""What a recipe is, whatever the framework: the default recipe, the options its artifact depends on (cache keys),
its MCT target platform, and what to change when it cannot be built. Read by the pipeline and the sections, which
never import a framework's own recipes; each framework builds the recipes (vsq.frameworks.keras.recipes,
vsq.frameworks.pytorch.recipes)."""

from __future__ import annotations

from vsq.configuration.config import DEFAULT_RECIPE_NAME, MCT_KINDS, Config, Variant

# The tool named in a conversion's failure, per kind of the other runtimes.
RUNTIME_TOOLS = {"onnxruntime_float": "tf2onnx", "onnxruntime_int8": "tf2onnx / ONNX Runtime quantization",
                 "openvino_float": "OpenVINO model conversion", "openvino_int8": "OpenVINO model conversion / NNCF"}


# The key under which a kind's written options are recorded, by the kind's prefix.
TOOL_OF = {"mct": "mct", "tf_": "converter", "onn": "quantize_static"}


def target_platform(variant: Variant, config: Config) -> str | None:
    """The MCT platform a variant uses (its own, else the configuration's); None for tf_* kinds."""
    return (variant.target_platform or config.target_platform) if variant.kind in MCT_KINDS else None


def options(variant: Variant, config: Config) -> dict:
    """What the artifact depends on, besides model and data: the kind and the options it reads (the shorthands,
    then the tool's options as written under the tool's name: mct, converter, quantize_static, nncf). A recipe
    without written options keeps the key it had before options existed."""
    out: dict = {"kind": variant.kind}
    written = dict(variant.options)
    if variant.kind in MCT_KINDS:
        out["target_platform"] = target_platform(variant, config)
    if variant.kind == "mct_gptq":
        out["epochs"] = written.pop("n_epochs", variant.epochs)
    if variant.kind == "mct_mixed_precision":
        out["weights_memory_fraction"] = None if "weights_memory" in written else variant.weights_memory_fraction
    if variant.kind == "tf_full_integer":
        out["io_type"] = variant.io_type
    if variant.kind == "onnxruntime_int8":
        out["calibration_method"] = written.pop("calibrate_method", variant.calibration_method).lower()
        # the host's, as ONNX Runtime advises: a cache shared between CPUs keeps both builds
        out["reduce_range"] = written.pop("reduce_range", onnx_reduce_range())
    if variant.kind == "openvino_int8":
        from vsq.frameworks.keras.openvino_export import NNCF_OPTIONS

        out["nncf"] = {**NNCF_OPTIONS, **written}
    elif written:
        out[TOOL_OF.get(variant.kind[:3], "options")] = written
    return out


def onnx_reduce_range() -> bool:
    """quantize_static's reduce_range as ONNX Runtime advises for the host the file is built on."""
    from vsq.util.cpu import host_cpu, needs_reduced_range

    return needs_reduced_range(host_cpu())


def fix_hint(variant: Variant, config: Config, message: str) -> str:
    """What to change when a variant could not be built, from the tool's message."""
    if variant.kind == "mct_mixed_precision" and target_platform(variant, config) != "imx500":
        return "mixed precision needs several weight bit-widths, which only MCT's imx500 platform offers: " \
               "set the variant's target_platform to imx500"
    if variant.kind == "mct_mixed_precision" and "cannot be quantized to meet" in message \
            and "weights_memory" in variant.options:
        return (f"raise options.weights_memory (now {variant.options['weights_memory']:g} bytes): imx500 weights go "
                "down to 2 bits, about 0.25 of the 8-bit size")
    if variant.kind == "mct_mixed_precision" and "cannot be quantized to meet" in message:
        return (f"raise weights_memory_fraction (now {variant.weights_memory_fraction}): imx500 weights go down to "
                "2 bits, about 0.25 of the 8-bit size")
    if variant.kind == "tf_full_integer":
        return "an op of the model may have no integer kernel; try tf_integer_float_fallback instead"
    if variant.kind in RUNTIME_TOOLS:
        return (f"an op or layer of the model may have no conversion in {RUNTIME_TOOLS[variant.kind]}; remove the "
                "variant from \"variants\" (the other variants are not affected), or replace the layer")
    return "change the variant's options or remove it from \"variants\"; the other variants are not affected"


def default_recipe(config: Config) -> Variant:
    """The configuration's default model as a recipe: MCT PTQ for its target_platform, thresholds and the options of
    "quantization"."""
    limits = config.thresholds
    return Variant(DEFAULT_RECIPE_NAME, "mct_ptq", target_platform=config.target_platform,
                   max_top1_drop=limits.max_top1_drop, min_top1=limits.min_top1, options=config.quantization.options)
