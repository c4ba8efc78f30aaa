"""The exported model.tflite and model_quantized.tflite."""

import numpy as np
import pytest

EXPORTS = ["model.tflite", "model_quantized.tflite"]


@pytest.fixture(params=EXPORTS)
def exported(request, float_tflite, quantized_tflite):
    return {"model.tflite": float_tflite, "model_quantized.tflite": quantized_tflite}[request.param]


def _interpreter(vsq_job, path):
    from vsq.tflite import open_for_inspection

    return open_for_inspection(path)


def test_file_written_to_output_dir(vsq_job, exported, record_property):
    record_property("file", str(exported))
    record_property("size_bytes", exported.stat().st_size if exported.exists() else 0)
    assert exported.parent == vsq_job.config.output_dir
    assert exported.is_file() and exported.stat().st_size > 0


def test_shapes_match_the_model(vsq_job, model_info, exported, record_property):
    interpreter = _interpreter(vsq_job, exported)
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    record_property("input_shape", str(inp["shape"].tolist()))
    record_property("output_shape", str(out["shape"].tolist()))
    size = vsq_job.config.input_tensor_size
    assert inp["shape"].tolist() == [1, size, size, 3]
    assert out["shape"].tolist() == [1, model_info.num_outputs]


def test_quantized_file_is_integer_quantized(vsq_job, quantized_tflite, record_property):
    interpreter = _interpreter(vsq_job, quantized_tflite)
    io = {d["index"] for d in interpreter.get_input_details() + interpreter.get_output_details()}
    details = interpreter.get_tensor_details()
    integer = [d["name"] for d in details if d["dtype"] in (np.int8, np.uint8)]
    # MCT's INT8 export keeps a float input and output (quantize/dequantize inside); nothing else may be float.
    inner_float = [d["name"] for d in details if d["index"] not in io and np.issubdtype(d["dtype"], np.floating)]
    record_property("int8_tensors", len(integer))
    record_property("inner_float_tensors", len(inner_float))
    assert integer, "model_quantized.tflite has no 8-bit integer tensor"
    assert not inner_float, f"model_quantized.tflite still computes in float: {inner_float[:5]}"


def test_quantized_file_is_smaller(float_tflite, quantized_tflite, record_property):
    float_size, quantized_size = float_tflite.stat().st_size, quantized_tflite.stat().st_size
    record_property("float_size_bytes", float_size)
    record_property("quantized_size_bytes", quantized_size)
    record_property("ratio", round(quantized_size / float_size, 4))
    assert quantized_size < float_size
