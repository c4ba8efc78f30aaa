"""What a .tflite file holds, read from its flatbuffer, and whether that is what its recipe promises.

Checks encode each converter's documented rule, not a byte ratio: TensorFlow's dynamic-range
quantization leaves weight tensors under 1,024 elements in float by design, so a small correct
model can hold more float bytes than integer ones.
"""

from __future__ import annotations

from pathlib import Path

from vsq.errors import VsqError

# Ops whose input 1 is a weight tensor (the filter); biases (input 2) stay int32/float by design.
WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "CONV_3D")
INTEGER_TYPES = ("int8", "uint8", "int4")  # int4: MCT's mixed precision stores 4-bit weights packed
FLOAT_TYPES = ("float32", "float16")
# TensorFlow's dynamic-range quantization keeps weight tensors with fewer elements than this in float.
DYNAMIC_RANGE_MIN_ELEMENTS = 1024

# model.tflite size from which model_quantized.tflite must be smaller: MCT's INT8 export adds about 10 KB
# (quantize/dequantize ops, scales), which outweighs what 8-bit weights save on a model of a few thousand
# weights (measured: 5,155 weights, float 22.6 KB, INT8 18.9 KB; 1,667 weights, 8.9 KB against 13.6 KB).
SMALLER_FROM_BYTES = 64 * 1024

# Kinds whose every weight tensor is stored as an integer (tf_dynamic_range: the large ones).
# MCT's kinds (mct_*: vsq.configuration.config.MCT_KINDS) and TensorFlow's integer ones store integer weights.
TF_INTEGER_WEIGHT_KINDS = ("tf_dynamic_range", "tf_full_integer")


def describe_tflite(path: Path) -> dict:
    """Weight storage and interface of a .tflite file, read from its flatbuffer (no interpreter).

    `weights`: per tensor type, the count and bytes of constant tensors (tensors with data in the
    file: kernels, biases, tables). int8, uint8, float16 and float32 are always listed.
    `kernels`: the weight tensor of each CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED/TRANSPOSE_CONV
    (through a DEQUANTIZE of a stored float16 or int8 tensor): name, type, elements.
    `float_activations`: names of float tensors computed inside the main graph (operator outputs other than
    the graph's outputs) by a computing layer (an op of WEIGHT_OPS) or anything after one.
    `input_float_ops`: "OP tensor" of the float ops before the first computing layer. MCT's INT8 export
    (TFLiteConverter with Optimize.DEFAULT on the fake-quant model, no representative data) turns each of
    MCT's fake-quant points into QUANTIZE/DEQUANTIZE and computes in integers only what lies between them
    with quantized weights: ops whose constants MCT does not quantize (Keras' Rescaling and Normalization,
    input-side preprocessing) stay float between the input's quantization and the first computing layer's.
    `inputs`/`outputs`: tensor types of the main graph's inputs and outputs, e.g. ["float32"].
    """
    try:
        return _describe(Path(path))
    except Exception as error:  # not a flatbuffer, truncated, another format: the file, not vsq, is broken
        raise VsqError(f"{Path(path).name} cannot be read as a .tflite file ({type(error).__name__}: {error})") from None


def _describe(path: Path) -> dict:
    schema = _schema()
    type_names = {value: name.lower() for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
    data = path.read_bytes()
    model = schema.Model.GetRootAs(data, 0)
    weights = {name: {"tensors": 0, "bytes": 0} for name in ("int8", "uint8", "float16", "float32")}
    seen = set()
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        for t in range(graph.TensorsLength()):
            tensor = graph.Tensors(t)
            size = _buffer_size(model, tensor.Buffer())
            if size == 0 or tensor.Buffer() in seen:  # no data: computed at run time
                continue
            seen.add(tensor.Buffer())
            entry = weights.setdefault(type_names.get(tensor.Type(), str(tensor.Type())), {"tensors": 0, "bytes": 0})
            entry["tensors"] += 1
            entry["bytes"] += size
    main = model.Subgraphs(0)
    return {
        "inputs": [type_names[main.Tensors(main.Inputs(i)).Type()] for i in range(main.InputsLength())],
        "outputs": [type_names[main.Tensors(main.Outputs(i)).Type()] for i in range(main.OutputsLength())],
        "weights": weights,
        "kernels": _kernels(schema, model, type_names),
        **_float_ops(main, _op_namer(schema, model), type_names),
        "file_size_bytes": len(data),
    }


def _schema():
    """TFLite's flatbuffer schema: LiteRT's copy imports in milliseconds, TensorFlow's costs ~3.5 s."""
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        from tensorflow.lite.python import schema_py_generated as schema
    return schema


def _kernels(schema, model, type_names: dict) -> list[dict]:
    op_name = _op_namer(schema, model)
    kernels = []
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        ops = [graph.Operators(i) for i in range(graph.OperatorsLength())]
        # float16 (and some int8) weights are stored once and DEQUANTIZEd to float32 for the op.
        dequantized_from = {op.Outputs(0): op.Inputs(0) for op in ops if op_name(op) == "DEQUANTIZE"}
        for op in ops:
            if op_name(op) not in WEIGHT_OPS or op.InputsLength() < 2:
                continue
            index = op.Inputs(1)
            index = dequantized_from.get(index, index)
            tensor = graph.Tensors(index)
            if _buffer_size(model, tensor.Buffer()) == 0:  # a computed filter, not stored weights
                continue
            shape = tensor.ShapeAsNumpy() if tensor.ShapeLength() else []
            elements = 1
            for dim in shape:
                elements *= int(dim)
            kernels.append({"name": tensor.Name().decode("utf-8", "replace"), "op": op_name(op),
                            "type": type_names.get(tensor.Type(), str(tensor.Type())), "elements": elements})
    return kernels


def _op_namer(schema, model):
    op_names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}

    def op_name(op) -> str:
        code = model.OperatorCodes(op.OpcodeIndex())
        return op_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "")
    return op_name


def _float_ops(graph, op_name, type_names: dict) -> dict:
    """Float tensors the main graph computes, split at its first computing layer (operators run in order)."""
    outputs = {graph.Outputs(i) for i in range(graph.OutputsLength())}
    after_computing: set[int] = set()  # tensors with a computing layer upstream
    computed, allowed = [], []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = op_name(op)
        downstream = name in WEIGHT_OPS or any(op.Inputs(j) in after_computing for j in range(op.InputsLength()))
        for j in range(op.OutputsLength()):
            t = op.Outputs(j)
            if downstream:
                after_computing.add(t)
            if t in outputs or type_names.get(graph.Tensors(t).Type()) not in FLOAT_TYPES:
                continue
            tensor = graph.Tensors(t).Name().decode("utf-8", "replace")
            if downstream:
                computed.append(tensor)
            else:
                allowed.append(f"{name} {tensor}")
    return {"float_activations": computed, "input_float_ops": allowed}


def _buffer_size(model, index: int) -> int:
    if index == 0 or index >= model.BuffersLength():  # buffer 0 is the empty sentinel
        return 0
    buffer = model.Buffers(index)
    # Files over 2 GB keep data outside the flatbuffer (offset/size) rather than inline.
    return buffer.DataLength() or int(buffer.Size() if hasattr(buffer, "Size") else 0)


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways the file's weight tensors are not stored as its kind promises; empty when they are.

    Integer kinds: every weight tensor the converter quantizes is int8/uint8/int4 (for
    tf_dynamic_range only those of 1,024 elements or more), and none is float16.
    tf_integer_float_fallback: some integer weights (ops without integer kernels may stay float).
    tf_float16: float16 weights and no integer ones.
    """
    kernels = description["kernels"]
    integer = [k for k in kernels if k["type"] in INTEGER_TYPES]
    problems = []
    if kind.startswith("mct_") or kind in TF_INTEGER_WEIGHT_KINDS:
        least = DYNAMIC_RANGE_MIN_ELEMENTS if kind == "tf_dynamic_range" else 0
        left_float = [k for k in kernels if k["type"] in FLOAT_TYPES and k["elements"] >= least]
        if left_float:
            sizes = f" of {least} elements or more" if least else ""
            problems.append(f"keeps {len(left_float)} of {len(kernels)} weight tensors{sizes} in float "
                            f"({kernel_names(left_float)})")
    if kind == "tf_integer_float_fallback" and kernels and not integer:
        problems.append(f"has no integer weight tensor among its {len(kernels)}")
    if kind == "tf_float16":
        if not any(k["type"] == "float16" for k in kernels):
            problems.append("has no float16 weight tensor")
        if integer:
            problems.append(f"has {len(integer)} integer weight tensors ({kernel_names(integer)})")
    return problems


def io_problems(kind: str, io_type: str, description: dict) -> list[str]:
    """tf_full_integer: inputs and outputs must be of the variant's io_type (int8 or uint8)."""
    if kind != "tf_full_integer":
        return []
    return [f"{side} are {description[side]}, not {io_type} (io_type)"
            for side in ("inputs", "outputs") if description[side] != [io_type] * len(description[side])]


def kernel_names(kernels: list[dict], shown: int = 3) -> str:
    names = ", ".join(f"{k['op']} {k['name'][:48]} ({k['type']}, {k['elements']})" for k in kernels[:shown])
    return names + (f" and {len(kernels) - shown} more" if len(kernels) > shown else "")


def promise_problems(kernels: list[dict], integer: bool, kept: list[dict], kept_words: str, quantize_ops: int,
                     ops_words: str) -> list[str]:
    """The ONNX and OpenVINO kinds' promises: an integer kind keeps no weight tensor in float (`kept`) and has
    quantize ops on its activations; a float kind stores every weight tensor in float32 and has none."""
    problems = []
    if kept:
        problems.append(f"{'keeps' if integer else 'stores'} {len(kept)} of {len(kernels)} weight tensors "
                        f"{kept_words} ({kernel_names(kept)})")
    if integer and not quantize_ops:
        problems.append(f"has no {ops_words}: its activations are not quantized")
    if not integer and quantize_ops:
        problems.append(f"has {quantize_ops} {ops_words}")
    return problems
