"""What an OpenVINO IR (.xml and .bin) holds, read with OpenVINO, and whether that is what its kind promises.

openvino_int8 (NNCF): every weight of a convolution or MatMul is an integer constant (decompressed by
Convert and Multiply) or goes through a FakeQuantize of at most 256 levels, and FakeQuantize ops quantize
the activations. openvino_float: every such weight is a float32 constant and there is no FakeQuantize.
"""

from __future__ import annotations

from pathlib import Path

from vsq.errors import VsqError
from vsq.runtimes.tflite_storage import promise_problems

WEIGHT_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData",
              "MatMul")
# Ops between a stored weight and the op that uses it (NNCF's decompression: Convert, Subtract, Multiply).
PASS_THROUGH = ("Convert", "Subtract", "Multiply", "Reshape", "Transpose", "Unsqueeze", "FakeQuantize")
TYPE_NAMES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "i8": "int8", "u8": "uint8",
              "i4": "int4", "u4": "uint4", "i32": "int32", "i64": "int64"}
INTEGER_TYPES = ("int8", "uint8", "int4", "uint4")
INT8_LEVELS = 256


def describe_openvino(path: Path) -> dict:
    """Weight storage and interface of an IR, in describe_tflite's terms (weights, kernels, inputs, outputs),
    with the number of FakeQuantize ops."""
    try:
        return _describe(Path(path))
    except Exception as error:
        raise VsqError(f"{Path(path).name} cannot be read as an OpenVINO IR ({type(error).__name__}: {error})") from None


def _type(node) -> str:
    name = node.get_element_type().get_type_name()
    return TYPE_NAMES.get(name, name)


def _describe(path: Path) -> dict:
    from vsq.runtimes.openvino_runtime import openvino_module

    ov = openvino_module()
    model = ov.Core().read_model(str(path))
    ops = list(model.get_ordered_ops())
    weights = {name: {"tensors": 0, "bytes": 0} for name in ("int8", "uint8", "float16", "float32")}
    for op in ops:
        if op.get_type_name() == "Constant":
            entry = weights.setdefault(_type(op), {"tensors": 0, "bytes": 0})
            entry["tensors"] += 1
            entry["bytes"] += int(op.get_byte_size())
    kernels = [kernel for op in ops if op.get_type_name() in WEIGHT_OPS for kernel in [_kernel(op)] if kernel]
    return {"inputs": [TYPE_NAMES.get(p.get_element_type().get_type_name(), "?") for p in model.inputs],
            "outputs": [TYPE_NAMES.get(p.get_element_type().get_type_name(), "?") for p in model.outputs],
            "weights": weights, "kernels": kernels,
            "fake_quantize_ops": sum(op.get_type_name() == "FakeQuantize" for op in ops),
            "file_size_bytes": sum(p.stat().st_size for p in (path, path.with_suffix(".bin")) if p.is_file())}


def _kernel(op) -> dict | None:
    """The stored weight of a convolution or MatMul (the operand that leads back to a constant), or None."""
    for index in (1, 0) if op.get_type_name() == "MatMul" else (1,):
        node, levels = op.input_value(index).get_node(), None
        while node.get_type_name() in PASS_THROUGH:
            if node.get_type_name() == "FakeQuantize":
                levels = node.get_attributes().get("levels")
            node = node.input_value(0).get_node()
        if node.get_type_name() == "Constant":
            elements = 1
            for dim in node.get_output_shape(0):
                elements *= int(dim)
            return {"name": op.get_friendly_name(), "op": op.get_type_name(), "type": _type(node),
                    "elements": elements, "fake_quantize_levels": levels}
    return None


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways the IR is not stored as its kind promises; empty when it is."""
    kernels = description["kernels"]
    if not kernels:
        return ["has no stored weight in a convolution or MatMul"]
    if kind == "openvino_int8":
        kept = [k for k in kernels if k["type"] not in INTEGER_TYPES
                and not (k["fake_quantize_levels"] and k["fake_quantize_levels"] <= INT8_LEVELS)]
        return promise_problems(kernels, True, kept, "in float without a FakeQuantize",
                                description["fake_quantize_ops"], "FakeQuantize op")
    return promise_problems(kernels, False, [k for k in kernels if k["type"] != "float32" or k["fake_quantize_levels"]],
                            "in another type than float32 or through a FakeQuantize",
                            description["fake_quantize_ops"], "FakeQuantize ops")
