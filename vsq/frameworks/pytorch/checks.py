"""Checks of what a PyTorch configuration exports: model_quantized.onnx takes and gives what the model does,
is quantized as MCT's MCTQ format promises (every weight of a Conv, Gemm or MatMul through mct-quantizers'
weights quantizer, activations through its activation quantizers: what Sony's imxconv-pt reads), and MCT's
quantized PyTorch model keeps its Top-1 within the drop threshold."""

from __future__ import annotations

from vsq.core.checks import Run, quantized
from vsq.core.reference import PYTORCH_QUANTIZED
from vsq.core.verdicts import Check, CheckSpec

EXPORTS = ("model_quantized.onnx",)
DOMAIN = "mct_quantizers"
WEIGHT_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def _graph(p: Run):
    import onnx

    return onnx.load(str(p.reference_files["onnx_quantized"]), load_external_data=False).graph


def _dims(value) -> list:
    return [dim.dim_value or dim.dim_param or None for dim in value.type.tensor_type.shape.dim]


def shapes_match_the_model(p: Run, name: str) -> Check:
    graph = _graph(p)
    got = ([_dims(value) for value in graph.input], [_dims(value) for value in graph.output])
    size, classes = p.config.input_tensor_size, p.model_info.num_outputs
    matches = (len(got[0]) == len(got[1]) == 1 and got[0][0][1:] == [3, size, size] and got[1][0][1:] == [classes])
    return Check(matches, f"{p.name}: {name} takes {got[0]} and gives {got[1]}; expected one input [batch, 3, {size}, "
                 f"{size}] and one output [batch, {classes}]", {"input_shape": str(got[0]), "output_shape": str(got[1])})


def quantized_file_is_integer_quantized(p: Run, _=None) -> Check:
    graph = _graph(p)
    made_by = {output: node for node in graph.node for output in node.output}
    weighted = [node for node in graph.node if node.op_type in WEIGHT_OPS and len(node.input) > 1]
    float_weights = [node.name or node.output[0] for node in weighted
                     if not (made_by.get(node.input[1]) and made_by[node.input[1]].domain == DOMAIN)]
    activations = sum(node.domain == DOMAIN and node.op_type.startswith("Activation") for node in graph.node)
    problems = ([f"feeds {len(float_weights)} of {len(weighted)} weight tensors unquantized "
                 f"({', '.join(float_weights[:3])})"] if float_weights else [])
    problems += [] if activations else ["has no activation quantizer"]
    problems += [] if weighted else ["has no weight tensor"]
    figures = {"weight_tensors": len(weighted), "quantized_weight_tensors": len(weighted) - len(float_weights),
               "activation_quantizers": activations}
    return Check(not problems, f"{p.name}: model_quantized.onnx " + "; ".join(problems), figures)


EXPORT_CHECKS = (
    CheckSpec("shapes_match_the_model", shapes_match_the_model, lambda p: list(EXPORTS)),
    CheckSpec("quantized_file_is_integer_quantized", quantized_file_is_integer_quantized),
    CheckSpec(PYTORCH_QUANTIZED.check, quantized(1), whole_run=True),
)
