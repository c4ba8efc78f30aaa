"""What an .onnx file holds, read with the onnx package, and whether that is what its kind promises.

onnxruntime_int8 (QDQ format): every weight of a Conv, ConvTranspose, Gemm or MatMul is an int8 (or uint8)
initializer read through a DequantizeLinear, and QuantizeLinear nodes quantize the activations.
onnxruntime_float: every such weight is a float32 initializer and nothing is quantized.
"""

from __future__ import annotations

from pathlib import Path

from vsq.errors import VsqError
from vsq.runtimes.tflite_storage import promise_problems

WEIGHT_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
# Ops between a stored weight and the op that uses it: the weight is still the stored tensor.
PASS_THROUGH = ("DequantizeLinear", "Transpose", "Reshape", "Identity", "Unsqueeze", "Squeeze")
INTEGER_TYPES = ("int8", "uint8", "int4", "uint4")
FLOAT_NAMES = {"float": "float32", "double": "float64"}  # ONNX's names, as the TFLite descriptions name them


def describe_onnx(path: Path) -> dict:
    """Weight storage and interface of an .onnx file, in describe_tflite's terms (weights, kernels, inputs,
    outputs), with the number of QuantizeLinear and DequantizeLinear nodes."""
    try:
        return _describe(Path(path))
    except Exception as error:  # not ONNX, truncated: the file, not vsq, is broken
        raise VsqError(f"{Path(path).name} cannot be read as an .onnx file ({type(error).__name__}: {error})") from None


def _type_name(data_type: int) -> str:
    import onnx

    name = onnx.TensorProto.DataType.Name(data_type).lower()
    return FLOAT_NAMES.get(name, name)


def _describe(path: Path) -> dict:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)  # vsq's files hold their weights inline
    graph = model.graph
    stored = {tensor.name: tensor for tensor in graph.initializer}
    stored.update({node.output[0]: attribute.t for node in graph.node if node.op_type == "Constant"
                   for attribute in node.attribute if attribute.name == "value"})
    weights = {name: {"tensors": 0, "bytes": 0} for name in ("int8", "uint8", "float16", "float32")}
    for tensor in stored.values():
        entry = weights.setdefault(_type_name(tensor.data_type), {"tensors": 0, "bytes": 0})
        entry["tensors"] += 1
        entry["bytes"] += numpy_helper.to_array(tensor).nbytes
    producers = {output: node for node in graph.node for output in node.output}
    kernels = []
    for node in graph.node:
        if node.op_type not in WEIGHT_OPS or len(node.input) < 2:
            continue
        name, through = node.input[1], []
        while name not in stored and name in producers and producers[name].op_type in PASS_THROUGH:
            through.append(producers[name].op_type)
            name = producers[name].input[0]
        if name not in stored:  # a computed operand, not stored weights
            continue
        tensor = stored[name]
        elements = 1
        for dim in tensor.dims:
            elements *= int(dim)
        kernels.append({"name": name, "op": node.op_type, "type": _type_name(tensor.data_type),
                        "elements": elements, "dequantized": "DequantizeLinear" in through})
    counts = {op: sum(node.op_type == op for node in graph.node) for op in ("QuantizeLinear", "DequantizeLinear")}

    def io_types(values):
        return [_type_name(value.type.tensor_type.elem_type) for value in values]

    return {"inputs": io_types(graph.input), "outputs": io_types(graph.output), "weights": weights,
            "kernels": kernels, "quantize_nodes": counts["QuantizeLinear"],
            "dequantize_nodes": counts["DequantizeLinear"], "file_size_bytes": path.stat().st_size}


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways the file is not stored as its kind promises; empty when it is."""
    kernels = description["kernels"]
    if not kernels:
        return ["has no stored weight tensor in a Conv, ConvTranspose, Gemm or MatMul"]
    if kind == "onnxruntime_int8":
        kept = [k for k in kernels if k["type"] not in INTEGER_TYPES or not k["dequantized"]]
        return promise_problems(kernels, True, kept, "in float or outside a DequantizeLinear",
                                description["quantize_nodes"], "QuantizeLinear node")
    return promise_problems(kernels, False, [k for k in kernels if k["type"] != "float32"],
                            "in another type than float32",
                            description["quantize_nodes"] + description["dequantize_nodes"],
                            "QuantizeLinear and DequantizeLinear nodes")
