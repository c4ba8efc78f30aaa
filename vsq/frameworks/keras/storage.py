"""What MCT's quantized .keras file stores, read from its config.json without TensorFlow: each computing layer
(convolutions, Dense) and the weights quantizer MCT's exporter wrapped it in (mct-quantizers'
KerasQuantizationWrapper, its `weights_quantizer` per attribute with `num_bits`).

MCT's quantized Keras model keeps float weights that its quantizers round when the model runs (the fake-quant
model the IMX500 converter reads); so "weights quantized" here means every computing layer's kernel is under a
weights quantizer of at most 8 bits. A float .keras (the source model saved again) has none and fails.

The configuration is the one vsq.frameworks.keras.safety reads (model_configs: the file as Keras' loader reads it,
a config.json stored twice refused), so the storage check judges what the safety check passed.
"""

from __future__ import annotations

from pathlib import Path

from vsq.errors import VsqError

WRAPPER = "KerasQuantizationWrapper"
# Keras layers with a kernel the integer export stores, and the attribute MCT quantizes.
COMPUTING = {"Conv1D": "kernel", "Conv2D": "kernel", "Conv3D": "kernel", "Conv2DTranspose": "kernel",
             "Dense": "kernel", "DepthwiseConv2D": "depthwise_kernel", "SeparableConv2D": "depthwise_kernel"}
MAX_BITS = 8


def describe_keras(path: Path) -> dict:
    """`kernels`: per computing layer its name, op, type (int<bits> under a weights quantizer, else float32) and
    the quantizer's class; `weights`: per type, the number of kernels (the file's weights are float: see above)."""
    from vsq.frameworks.keras.safety import ModelFormatError, model_configs

    try:
        configs = model_configs(Path(path))
        if not configs or not isinstance(configs[0], dict):  # a zip without config.json: not a .keras file
            raise ModelFormatError("has no model configuration (config.json); give MCT's quantized .keras file")
        kernels = [_kernel(layer) for layer in _layers(configs[0]) if _op(layer) in COMPUTING]
    except ModelFormatError as error:
        raise VsqError(f"{Path(path).name}: {error}") from None
    weights: dict = {}
    for kernel in kernels:
        weights.setdefault(kernel["type"], {"tensors": 0, "bytes": None})["tensors"] += 1
    return {"kernels": kernels, "weights": weights}


def weight_problems(description: dict) -> list[str]:
    """Computing layers whose kernel is not under a weights quantizer of at most 8 bits; empty when all are."""
    float_layers = [kernel["name"] for kernel in description["kernels"] if kernel["type"] == "float32"]
    wide = [f"{kernel['name']} ({kernel['type']})" for kernel in description["kernels"]
            if kernel["type"] != "float32" and kernel["bits"] > MAX_BITS]
    problems = []
    if float_layers:
        problems.append(f"keeps {len(float_layers)} computing layers float, with no MCT weights quantizer "
                        f"({', '.join(name[:48] for name in float_layers[:3])}{', ...' if len(float_layers) > 3 else ''}): "
                        "is it MCT's quantized model (model_quantized.keras), not the float one?")
    if wide:
        problems.append(f"quantizes weights to more than {MAX_BITS} bits ({', '.join(wide[:3])})")
    return problems


def _layers(config: dict):
    """Every layer of the model, nested models' too (a functional model inside another): the objects listed in a
    model configuration's `layers`, found by safety's walker (refused past its depth)."""
    from vsq.frameworks.keras.safety import objects

    for node in objects(config):
        layers = node["config"].get("layers") if isinstance(node.get("config"), dict) else None
        yield from (layer for layer in layers if isinstance(layer, dict)) if isinstance(layers, list) else ()


def _op(layer: dict) -> str:
    """The layer's class, or the wrapped layer's for MCT's wrapper."""
    if layer.get("class_name") == WRAPPER:
        return str(((layer.get("config") or {}).get("layer") or {}).get("class_name"))
    return str(layer.get("class_name"))


def _kernel(layer: dict) -> dict:
    config = layer.get("config") or {}
    op = _op(layer)
    name = str((config.get("layer") or {}).get("config", {}).get("name") or config.get("name") or "?")
    quantizer = (config.get("weights_quantizer") or {}).get(COMPUTING[op]) if layer.get("class_name") == WRAPPER else None
    if not isinstance(quantizer, dict):
        return {"name": name, "op": op, "type": "float32", "bits": 32, "quantizer": None}
    bits = (quantizer.get("config") or {}).get("num_bits")
    bits = bits if isinstance(bits, int) and not isinstance(bits, bool) and bits > 0 else 32
    return {"name": name, "op": op, "type": f"int{bits}", "bits": bits,
            "quantizer": str(quantizer.get("class_name"))[:80]}
