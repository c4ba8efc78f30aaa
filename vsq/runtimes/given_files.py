"""What a model file vsq did not make says of itself, read without running it: its input contract (shape, type,
an integer input's scale and zero point) and what it would load besides the file (custom operators, ONNX domains,
OpenVINO extensions, external data); and its predictor, feeding its inputs as the contract says.

Read from the bytes: a .tflite's flatbuffer (LiteRT's schema), an .onnx's protobuf without its external data,
an OpenVINO IR's XML (no DOCTYPE or entity accepted), a .keras zip's config.json. Nothing here registers an
operator library or an extension the file names: ONNX Runtime gets mct-quantizers' operators only when the file
uses that domain (vsq's own installed package), OpenVINO gets none (Core.add_extension is never called).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vsq.errors import VsqError

MCT_DOMAIN = "mct_quantizers"
# ONNX Runtime's own operators, built into it: "" and ai.onnx (the standard), ai.onnx.ml, com.microsoft (its
# contrib operators, which its quantizer may write); none loads a library.
ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "com.microsoft")
LAYOUT_OPS = ("Transpose", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten")  # values moved, not changed
OPENVINO_OPSETS = re.compile(r"opset\d{1,2}")
TYPES = {"float32": "float32", "float": "float32", "int8": "int8", "uint8": "uint8", "f32": "float32", "i8": "int8",
         "u8": "uint8"}


@dataclass(frozen=True)
class Contract:
    """A file's input as the file declares it, and what it names beyond its format's standard operators."""

    format: str  # tflite, onnx, openvino, keras
    shape: tuple  # the input's dimensions; -1 where the file leaves one free
    dtype: str  # float32, int8, uint8 (or the file's own name of another type)
    scale: float | None = None  # int8/uint8 inputs: real = (q - zero_point) * scale
    zero_point: int | None = None
    inputs: int = 1
    outputs: int = 1
    foreign: tuple = ()  # custom operators, domains or extensions the file names
    external: tuple = ()  # ONNX external data locations, as written in the file
    mct_operators: bool = False  # an ONNX file with mct-quantizers' domain
    output_dtype: str = "float32"  # ONNX: an int8/uint8 output is dequantized with its own scale and zero point
    output_scale: float | None = None
    output_zero_point: int | None = None

    @property
    def layout(self) -> str | None:
        """NCHW when the second dimension is the 3 channels and the last is not, NHWC when the last is 3."""
        if len(self.shape) != 4:
            return None
        if self.shape[-1] == 3:
            return "NHWC"
        return "NCHW" if self.shape[1] == 3 else None

    def as_dict(self) -> dict:
        return {"format": self.format, "input_shape": list(self.shape), "layout": self.layout, "input_type": self.dtype,
                "input_scale": self.scale, "input_zero_point": self.zero_point,
                **({"mct_operators": True} if self.mct_operators else {}),
                **({"output_type": self.output_dtype, "output_scale": self.output_scale,
                    "output_zero_point": self.output_zero_point} if self.output_scale is not None else {})}


def read_contract(path: Path, fmt: str) -> Contract:
    """The file's Contract; VsqError naming the file when it cannot be read as its format."""
    try:
        return _READERS[fmt](Path(path))
    except VsqError:
        raise
    except Exception as error:  # truncated, another format: the file, not vsq, is broken
        raise VsqError(f"{Path(path).name} cannot be read as a {fmt} file ({type(error).__name__})") from None


def _tflite(path: Path) -> Contract:
    from vsq.runtimes.tflite_storage import _schema

    schema = _schema()
    names = {value: name.lower() for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    custom = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) == schema.BuiltinOperator.CUSTOM:
            custom.append(f"custom operator {(code.CustomCode() or b'?').decode('utf-8', 'replace')[:40]}")
    main = model.Subgraphs(0)
    tensor = main.Tensors(main.Inputs(0))
    signature = tensor.ShapeSignatureAsNumpy() if tensor.ShapeSignatureLength() else tensor.ShapeAsNumpy()
    quantization = tensor.Quantization()
    scale = zero_point = None
    if quantization is not None and quantization.ScaleLength():
        scale, zero_point = float(quantization.Scale(0)), int(quantization.ZeroPoint(0))
    dtype = names.get(tensor.Type(), str(tensor.Type()))
    return Contract("tflite", tuple(int(d) for d in signature), TYPES.get(dtype, dtype),
                    scale if dtype in ("int8", "uint8") else None, zero_point if dtype in ("int8", "uint8") else None,
                    main.InputsLength(), main.OutputsLength(), tuple(dict.fromkeys(custom)))


def _onnx(path: Path) -> Contract:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    domains = {entry.domain for entry in model.opset_import}
    domains |= {node.domain for node in graph.node} | {node.domain for f in model.functions for node in f.node}
    domains |= {entry.domain for f in model.functions for entry in f.opset_import}
    foreign = tuple(sorted(f"ONNX domain {domain[:40]}" for domain in domains - {*ONNX_DOMAINS, MCT_DOMAIN}))
    external = tuple(entry.value for tensor in graph.initializer if tensor.data_location == onnx.TensorProto.EXTERNAL
                     for entry in tensor.external_data if entry.key == "location")
    stored = {tensor.name: tensor for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in stored]
    first = inputs[0]
    dims = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in first.type.tensor_type.shape.dim)
    dtype = onnx.TensorProto.DataType.Name(first.type.tensor_type.elem_type).lower()
    dtype = TYPES.get(dtype, dtype)
    scale = zero_point = None
    if dtype in ("int8", "uint8"):  # its DequantizeLinear says how to read it
        scale, zero_point = _onnx_parameters(path, graph, stored, "DequantizeLinear", 0, first.name, dtype, "input")
    output = graph.output[0]
    out_dtype = onnx.TensorProto.DataType.Name(output.type.tensor_type.elem_type).lower()
    out_dtype = TYPES.get(out_dtype, out_dtype)
    out_scale = out_zero_point = None
    if out_dtype in ("int8", "uint8"):  # the QuantizeLinear that writes it says how to read it
        out_scale, out_zero_point = _onnx_parameters(path, graph, stored, "QuantizeLinear", 2, output.name,
                                                     out_dtype, "output")
    return Contract("onnx", dims, dtype, scale, zero_point, len(inputs), len(graph.output), foreign, external,
                    MCT_DOMAIN in domains, out_dtype, out_scale, out_zero_point)


def _onnx_parameters(path: Path, graph, stored: dict, op_type: str, end: int, name: str, dtype: str, what: str):
    """The scale and zero point of the (De)QuantizeLinear next to an integer input or output (end: the node's
    input 0 or output 0 is `name`), as stored in the file; VsqError when they are not stored constants."""
    from onnx import numpy_helper

    node = _next_to(graph, op_type, end, name)
    if node is None or node.input[1] not in stored:
        after = "after" if what == "input" else "before"
        raise VsqError(f"{path.name} has an {dtype} {what} without a {op_type} of stored scale {after} it; vsq cannot "
                       f"tell how to {'quantize its input' if what == 'input' else 'read its scores'}")
    scale = float(numpy_helper.to_array(stored[node.input[1]]).reshape(-1)[0])
    zero_point = int(numpy_helper.to_array(stored[node.input[2]]).reshape(-1)[0]) \
        if len(node.input) > 2 and node.input[2] in stored else 0
    return scale, zero_point


def _next_to(graph, op_type: str, end: int, name: str):
    """The op_type node reading `name` (end 0) or writing it (end 2), through ops that only move values (a
    converter's Transpose from NHWC to NCHW, a Reshape): they leave the quantization parameters as they are."""
    for _ in range(8):
        node = next((node for node in graph.node if (name in node.input[:1] if end == 0 else name in node.output[:1])),
                    None)
        if node is None or node.op_type == op_type:
            return node
        if node.op_type not in LAYOUT_OPS:
            return None
        name = node.output[0] if end == 0 else node.input[0]
    return None


def _openvino(path: Path) -> Contract:
    import xml.etree.ElementTree as ElementTree

    data = path.read_bytes()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise VsqError(f"{path.name} declares a DOCTYPE or entities, which an OpenVINO IR does not have; refused")
    root = ElementTree.fromstring(data)
    layers = root.findall("./layers/layer")
    foreign = tuple(sorted({f"OpenVINO extension operator {layer.get('type', '?')[:40]} ({layer.get('version', '?')[:40]})"
                            for layer in layers if not OPENVINO_OPSETS.fullmatch(layer.get("version") or "")}))
    parameters = [layer for layer in layers if layer.get("type") == "Parameter"]
    results = [layer for layer in layers if layer.get("type") == "Result"]
    data_node = parameters[0].find("data")
    shape = tuple(int(d) if d.strip().lstrip("-").isdigit() else -1
                  for d in (data_node.get("shape") or "").strip("[]").split(",") if d.strip())
    dtype = data_node.get("element_type", "?")
    return Contract("openvino", shape, TYPES.get(dtype, dtype), inputs=len(parameters), outputs=len(results),
                    foreign=foreign)


def _keras(path: Path) -> Contract:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.json")
        if info.file_size > 64 * 1024 * 1024:
            raise VsqError(f"{path.name}: its config.json is {info.file_size:,} bytes; refused")
        config = json.loads(archive.read("config.json"))
    layers = config.get("config", {}).get("layers", [])
    first = next((layer for layer in layers if layer.get("class_name") == "InputLayer"), None)
    shape = first["config"].get("batch_input_shape") or first["config"].get("batch_shape") if first else None
    if not shape:
        raise VsqError(f"{path.name} has no InputLayer with a shape in its config.json")
    return Contract("keras", tuple(-1 if d is None else int(d) for d in shape), "float32",
                    inputs=len(config.get("config", {}).get("input_layers", [[]])),
                    outputs=len(config.get("config", {}).get("output_layers", [[]])))


_READERS = {"tflite": _tflite, "onnx": _onnx, "openvino": _openvino, "keras": _keras}


@dataclass
class Fed:
    """images (N, H, W, 3) float32, preprocessed -> the file's scores, its input laid out and typed as it says."""

    predict: object
    contract: Contract
    quantize_here: bool = False  # ONNX integer inputs: vsq quantizes (TFLite's interpreter wrapper does itself)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        batch = images.transpose(0, 3, 1, 2) if self.contract.layout == "NCHW" else images
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self.quantize_here:
            batch = quantize(batch, self.contract)
        scores = self.predict(batch)
        if self.contract.output_scale is not None:  # ONNX integer scores (TFLite's wrapper dequantizes its own)
            return dequantize(scores, self.contract)
        return scores


def quantize(batch: np.ndarray, contract: Contract) -> np.ndarray:
    """An int8/uint8 input from real values, with the file's own scale and zero point (round half to even)."""
    info = np.iinfo(contract.dtype)
    return np.clip(np.round(batch / contract.scale + contract.zero_point), info.min, info.max).astype(contract.dtype)


def dequantize(scores: np.ndarray, contract: Contract) -> np.ndarray:
    """Real scores from an int8/uint8 output, with the file's own scale and zero point."""
    return (np.asarray(scores).astype(np.float32) - contract.output_zero_point) * contract.output_scale


def onnx_session(path: Path, contract: Contract):
    """One ONNX Runtime session with the pinned settings; mct-quantizers' operators registered only for a file
    of that domain (the installed package's library, never one the file names)."""
    from vsq.runtimes.kinds import ONNXRUNTIME
    from vsq.runtimes.telemetry import import_quietly

    ort = import_quietly("onnxruntime")
    if contract.mct_operators:
        from mct_quantizers import get_ort_session_options

        options = get_ort_session_options()
    else:
        options = ort.SessionOptions()
    settings = ONNXRUNTIME.settings
    options.intra_op_num_threads = settings["intra_op_num_threads"]
    options.inter_op_num_threads = settings["inter_op_num_threads"]
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, settings["graph_optimization_level"])
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=[settings["execution_provider"]])


def onnx_predictor(path: Path, contract: Contract, instances: int):
    """The file on ONNX Runtime, a pool of sessions, its input as the file types it (already laid out)."""
    from vsq.errors import ExternalToolError
    from vsq.runtimes.pool import in_batches, predict_pooled

    try:
        sessions = [onnx_session(path, contract) for _ in range(max(1, instances))]
    except Exception as error:
        raise ExternalToolError("ONNX Runtime", f"loading {Path(path).name}", error) from None
    name = sessions[0].get_inputs()[0].name

    def runner(session):
        return lambda images: in_batches(lambda batch: session.run(None, {name: batch})[0], images, 1)

    return lambda batch: predict_pooled([runner(session) for session in sessions], batch, 1)
