"""The exported model.tflite and model_quantized.tflite."""

import pytest

from vsq.util.paths import shown

EXPORTS = ["model.tflite", "model_quantized.tflite"]


@pytest.fixture(params=EXPORTS)
def exported(request, float_tflite, quantized_tflite):
    return {"model.tflite": float_tflite, "model_quantized.tflite": quantized_tflite}[request.param]


def test_file_written_to_output_dir(vsq_job, exported, record_property):
    size = exported.stat().st_size if exported.is_file() else 0
    output_dir = vsq_job.config.output_dir
    record_property("file", str(exported))
    record_property("size_bytes", size)
    in_place = exported.parent == output_dir and size > 0
    assert in_place, (
        f"{vsq_job.name}: {shown(exported)} is {'empty or missing' if not size else 'not in output_dir'} "
        f"({shown(output_dir)})")


def test_shapes_match_the_model(vsq_job, model_info, exported, record_property):
    from vsq.runtimes.tflite import open_for_inspection

    interpreter = open_for_inspection(exported)
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    got = (inp["shape"].tolist(), out["shape"].tolist())
    size = vsq_job.config.input_tensor_size
    expected = ([1, size, size, 3], [1, model_info.num_outputs])
    record_property("input_shape", str(got[0]))
    record_property("output_shape", str(got[1]))
    matches = got == expected
    assert matches, f"{vsq_job.name}: {exported.name} takes {got[0]} and gives {got[1]}; expected {expected}"


def test_quantized_file_is_integer_quantized(vsq_job, quantized_tflite, record_property):
    """What MCT's INT8 export promises: integer weight tensors, integer computation between the float
    input and output (QUANTIZE/DEQUANTIZE inside)."""
    from vsq.runtimes.tflite_storage import describe_tflite, weight_problems

    description = describe_tflite(quantized_tflite)
    problems = weight_problems("mct_ptq", description)
    floats = description["float_activations"]
    if floats:
        problems.append(f"computes {len(floats)} tensors in float ({', '.join(name[:48] for name in floats[:3])})")
    record_property("weight_tensors", len(description["kernels"]))
    record_property("integer_weight_tensors", sum(k["type"] != "float32" for k in description["kernels"]))
    record_property("float_activations", len(floats))
    integer = bool(description["kernels"]) and not problems
    assert integer, (
        f"{vsq_job.name}: {quantized_tflite.name} " + ("; ".join(problems) or "has no weight tensor"))


def test_quantized_file_is_smaller(vsq_job, float_tflite, quantized_tflite, record_property):
    """8-bit weights take a quarter of float32's, but MCT's INT8 export adds quantize/dequantize ops and
    scales (about 10 KB): for a model.tflite under SMALLER_FROM_BYTES the check does not apply."""
    from vsq.runtimes.tflite_storage import SMALLER_FROM_BYTES

    float_size, quantized_size = float_tflite.stat().st_size, quantized_tflite.stat().st_size
    applies = float_size >= SMALLER_FROM_BYTES
    record_property("float_size_bytes", float_size)
    record_property("quantized_size_bytes", quantized_size)
    record_property("ratio", round(quantized_size / float_size, 4))
    record_property("applies_from_bytes", SMALLER_FROM_BYTES)
    record_property("applies", applies)
    smaller = quantized_size < float_size or not applies
    assert smaller, (
        f"{vsq_job.name}: {quantized_tflite.name} ({quantized_size} bytes) is not smaller than {float_tflite.name} "
        f"({float_size} bytes); the check applies from {SMALLER_FROM_BYTES // 1024} KiB of model.tflite")
