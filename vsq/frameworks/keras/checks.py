"""Checks of what a Keras configuration exports: model.tflite and model_quantized.tflite are written where the
spec says, take and give what the model does, the quantized file holds what MCT's INT8 export promises;
model.tflite keeps Keras's Top-1 and model_quantized.keras (MCT's quantized Keras model) is within the drop
threshold."""

from __future__ import annotations

from vsq.core.checks import Run, quantized, spec_figures
from vsq.core.reference import FLOAT_TFLITE, KERAS_QUANTIZED
from vsq.core.verdicts import Check, CheckSpec
from vsq.statistics.metrics import top1_drop_points

EXPORTS = {"model.tflite": "tflite", "model_quantized.tflite": "tflite_quantized"}  # file -> reference model


def _exported(p: Run, name: str):
    return p.reference_files[EXPORTS[name]]


def shapes_match_the_model(p: Run, name: str) -> Check:
    from vsq.frameworks.keras.models import detection_outputs
    from vsq.runtimes.tflite import open_for_inspection

    exported = _exported(p, name)
    interpreter = open_for_inspection(exported)
    if detection_outputs(p.model_info.output_shapes):
        return _network_shapes(p, exported, interpreter)
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    got = (inp["shape"].tolist(), out["shape"].tolist())
    size = p.config.input_tensor_size
    expected = ([1, size, size, 3], [1, p.model_info.num_outputs])
    return Check(got == expected, f"{p.name}: {exported.name} takes {got[0]} and gives {got[1]}; expected {expected}",
                 {"input_shape": str(got[0]), "output_shape": str(got[1])})


def _network_shapes(p: Run, exported, interpreter) -> Check:
    """A detector's file is its network without post-processing (vsq.frameworks.keras.detector): the model's input,
    and box codes (1, anchors, 4) and class scores (1, anchors, classes) under the signature's names."""
    from vsq.frameworks.keras.detector import OUTPUTS, SIGNATURE

    (inp,) = interpreter.get_input_details()
    signature = interpreter.get_signature_runner(SIGNATURE) if SIGNATURE in interpreter.get_signature_list() else None
    outputs = {name: detail["shape"].tolist() for name, detail in signature.get_output_details().items()} if signature else {}
    size, got = p.config.input_tensor_size, inp["shape"].tolist()
    codes, scores = (outputs.get(name, []) for name in OUTPUTS)
    ok = (got == [1, size, size, 3] and sorted(outputs) == sorted(OUTPUTS) and len(codes) == len(scores) == 3
          and codes[0] == scores[0] == 1 and codes[1] == scores[1] and codes[2] == 4)
    return Check(ok, f"{p.name}: {exported.name} takes {got} and gives {outputs}; expected [1, {size}, {size}, 3] "
                 f"and {OUTPUTS[0]} [1, anchors, 4], {OUTPUTS[1]} [1, anchors, classes]",
                 {"input_shape": str(got), "output_shape": str(outputs)})


def quantized_file_is_integer_quantized(p: Run, _=None) -> Check:
    """What MCT's INT8 export promises: integer weight tensors, and integer computation from the first
    computing layer to the float output (QUANTIZE/DEQUANTIZE inside). Float ops before the first computing
    layer (input-side preprocessing such as Keras' Rescaling and Normalization, whose constants MCT does not
    quantize) are allowed, and listed in the figures and the message."""
    from vsq.runtimes.tflite_storage import describe_tflite, weight_problems

    quantized = _exported(p, "model_quantized.tflite")
    description = describe_tflite(quantized)
    weights = weight_problems("mct_ptq", description)
    problems = list(weights)
    floats, allowed = description["float_activations"], description["input_float_ops"]
    if floats:
        problems.append(f"computes {len(floats)} tensors in float from its first computing layer on "
                        f"({', '.join(name[:48] for name in floats[:2])}{', ...' if len(floats) > 2 else ''})")
    if allowed:
        problems.append(f"allowed {len(allowed)} float ops before its first computing layer "  # named in figures
                        f"({', '.join(op.split()[0] for op in allowed[:4])}{', ...' if len(allowed) > 4 else ''})")
    figures = {"weight_tensors": len(description["kernels"]),
               "integer_weight_tensors": sum(k["type"] != "float32" for k in description["kernels"]),
               "float_activations": len(floats), "input_float_ops": allowed}
    return Check(bool(description["kernels"]) and not weights and not floats,
                 f"{p.name}: {quantized.name} " + ("; ".join(problems) or "has no weight tensor"), figures)


def quantized_file_is_smaller(p: Run, _=None) -> Check:
    """8-bit weights take a quarter of float32's, but MCT's INT8 export adds quantize/dequantize ops and
    scales (about 10 KB): for a model.tflite under SMALLER_FROM_BYTES the check does not apply."""
    from vsq.runtimes.tflite_storage import SMALLER_FROM_BYTES

    float_file, quantized = _exported(p, "model.tflite"), _exported(p, "model_quantized.tflite")
    float_size, quantized_size = float_file.stat().st_size, quantized.stat().st_size
    applies = float_size >= SMALLER_FROM_BYTES
    figures = {"float_size_bytes": float_size, "quantized_size_bytes": quantized_size,
               "ratio": round(quantized_size / float_size, 4), "applies_from_bytes": SMALLER_FROM_BYTES,
               "applies": applies}
    return Check(quantized_size < float_size or not applies,
                 f"{p.name}: {quantized.name} ({quantized_size} bytes) is not smaller than {float_file.name} "
                 f"({float_size} bytes); the check applies from {SMALLER_FROM_BYTES // 1024} KiB of model.tflite",
                 figures)


def float_tflite_agrees_with_keras(p: Run, _=None) -> Check:
    document, limit = p.core, p.config.thresholds.max_float_top1_drop
    keras, tflite = document["top_1_accuracy_keras"], document["top_1_accuracy_tflite"]
    difference = abs(top1_drop_points(keras, tflite))
    figures = {**spec_figures(p, document), "top_1_difference_points": difference,
               "agreement_with_keras": document["models"]["tflite"]["agreement_with_keras"], "max_float_top1_drop": limit}
    return Check(difference <= limit, f"{p.name}: model.tflite Top-1 {tflite:.4f} differs from Keras "
                 f"{keras:.4f} by {difference:.2f} points; thresholds.max_float_top1_drop is {limit} points", figures)


def _top1(p: Run) -> bool:
    """Whether the run's figures are Top-1 (the classification task's): the two checks below read them; another
    task judges these models with its own checks."""
    return p.config.task == "classification"


EXPORT_CHECKS = (
    CheckSpec("shapes_match_the_model", shapes_match_the_model, lambda p: list(EXPORTS)),
    CheckSpec("quantized_file_is_integer_quantized", quantized_file_is_integer_quantized),
    CheckSpec("quantized_file_is_smaller", quantized_file_is_smaller),
    CheckSpec(KERAS_QUANTIZED.check, quantized(1), whole_run=True, applies=_top1),  # model_quantized.keras
    CheckSpec(FLOAT_TFLITE.check, float_tflite_agrees_with_keras, whole_run=True, applies=_top1),
)
