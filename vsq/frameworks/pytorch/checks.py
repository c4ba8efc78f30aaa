"""Checks of what a PyTorch configuration exports: model_quantized.onnx takes and gives what the model does,
is quantized as MCT's MCTQ format promises (every weight of a Conv, Gemm or MatMul through mct-quantizers'
weights quantizer, activations through its activation quantizers: what Sony's imxconv-pt reads), and MCT's
quantized PyTorch model keeps its Top-1 within the drop threshold."""

from __future__ import annotations

from vsq.core.checks import Run, quantized
from vsq.core.detections import DETECTION
from vsq.core.reference import PYTORCH_QUANTIZED
from vsq.core.verdicts import Check, CheckSpec

EXPORTS = ("model_quantized.onnx",)
DOMAIN = "mct_quantizers"
WEIGHT_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
NMS_OP = "MultiClassNMS"  # edge-mdt-cl's NMS in ONNX (domain EdgeMDT): a detector's outputs


def _graph(p: Run):
    import onnx

    return onnx.load(str(p.reference_files["onnx_quantized"]), load_external_data=False).graph


def _dims(value) -> list:
    return [dim.dim_value or dim.dim_param or None for dim in value.type.tensor_type.shape.dim]


# Operators a detector may put between the NMS and its outputs without changing which detection is where: shape
# only (n_valid.squeeze(1)) and elementwise (labels.float(), boxes * size).
PASS_THROUGH = ("Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Mul", "Div", "Add", "Sub", "Clip",
                "Round", "Floor", "Ceil", "Min", "Max")


def shapes_match_the_model(p: Run, name: str) -> Check:
    from vsq.core.detections import detection_outputs

    graph = _graph(p)
    got = ([_dims(value) for value in graph.input], [_dims(value) for value in graph.output])
    if detection_outputs(p.model_info.output_shapes):
        return _detector_shapes(p, name, got, graph)
    size, classes = p.config.input_tensor_size, p.model_info.num_outputs
    matches = (len(got[0]) == len(got[1]) == 1 and got[0][0][1:] == [3, size, size] and got[1][0][1:] == [classes])
    return Check(matches, f"{p.name}: {name} takes {got[0]} and gives {got[1]}; expected one input [batch, 3, {size}, "
                 f"{size}] and one output [batch, {classes}]", {"input_shape": str(got[0]), "output_shape": str(got[1])})


def nms_sources(graph) -> list:
    """Per graph output: the (NMS node, its output index) it is made from through PASS_THROUGH operators (their
    other inputs constants or anything not made from an NMS output), or None (made by another operator, from no
    NMS output, or from several)."""
    made_by = {output: node for node in graph.node for output in node.output}
    seen: dict = {}

    def source(tensor: str):
        if tensor not in seen:
            seen[tensor] = None  # a cycle (an invalid graph) reads as no source
            node = made_by.get(tensor)
            if node is not None and node.op_type == NMS_OP:
                seen[tensor] = (node.name, list(node.output).index(tensor))
            elif node is not None and node.op_type in PASS_THROUGH:
                found = {source(name) for name in node.input if name} - {None}
                seen[tensor] = found.pop() if len(found) == 1 else None
        return seen[tensor]

    return [source(output.name) for output in graph.output]


def _detector_shapes(p: Run, name: str, got: tuple, graph) -> Check:
    """A detector's file: the model's input, and four outputs made from the four outputs of one edge-mdt-cl NMS
    operator, in order, through shape-only or elementwise operators (PASS_THROUGH), with the model's detections per
    image (its max_detections attribute: the exporter leaves the outputs' sizes symbolic, and only the sizes it does
    write are compared: boxes [batch, n, 4], scores and labels [batch, n], n_valid [batch, 1] or [batch])."""
    import onnx

    size, n = p.config.input_tensor_size, p.model_info.output_shapes[0][1]
    inputs, outputs = got
    nms = [node for node in graph.node if node.op_type == NMS_OP]
    limits = [onnx.helper.get_attribute_value(a) for node in nms for a in node.attribute if a.name == "max_detections"]
    expected = ([[n, 4]], [[n]], [[n]], [[1], []])
    sizes_agree = [any(len(shape) == len(want) + 1 and all(not isinstance(dim, int) or dim == value
                                                           for dim, value in zip(shape[1:], want)) for want in wants)
                   for shape, wants in zip(outputs, expected)]
    matches = (len(inputs) == 1 and inputs[0][1:] == [3, size, size] and len(outputs) == 4 and all(sizes_agree)
               and len(nms) == 1 and limits == [n] and nms_sources(graph) == [(nms[0].name, i) for i in range(4)])
    return Check(matches, f"{p.name}: {name} takes {inputs} and gives {outputs} from {len(nms)} {NMS_OP} operator(s) "
                 f"with max_detections {limits}; expected one input [batch, 3, {size}, {size}] and the four outputs "
                 f"of one {NMS_OP} with max_detections {n}, in order (through shape-only or elementwise operators "
                 f"only): [batch, {n}, 4], [batch, {n}], [batch, {n}], [batch, 1] or [batch]",
                 {"input_shape": str(inputs), "output_shape": str(outputs), "max_detections": limits})


def _top1(p: Run) -> bool:
    """Whether the run's figures are Top-1 (the classification task's): the fake-quant model's Top-1 check reads
    them; a detector's fake-quant mAP is drawn, not gated, as for Keras."""
    return p.config.task != DETECTION


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
    CheckSpec(PYTORCH_QUANTIZED.check, quantized(1), whole_run=True, applies=_top1),
)
