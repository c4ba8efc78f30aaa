"""A model file's storage description and its kind's storage check, by the file's format.

.tflite files: vsq.runtimes.tflite_storage (flatbuffer); .onnx: onnx_storage; OpenVINO IR .xml: openvino_storage.
Every description has `weights` (per type: tensors, bytes), `kernels` (the weight of each convolution and
matrix product: name, op, type, elements), `inputs`, `outputs` and `file_size_bytes` (every file of the model).
"""

from __future__ import annotations

from pathlib import Path


def describe(path: Path) -> dict:
    suffix = Path(path).suffix
    if suffix == ".onnx":
        from vsq.runtimes.onnx_storage import describe_onnx

        return describe_onnx(path)
    if suffix == ".xml":
        from vsq.runtimes.openvino_storage import describe_openvino

        return describe_openvino(path)
    from vsq.runtimes.tflite_storage import describe_tflite

    return describe_tflite(path)


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways a file's weights are not stored as its kind promises; empty when they are."""
    if kind.startswith("onnxruntime_"):
        from vsq.runtimes import onnx_storage as module
    elif kind.startswith("openvino_"):
        from vsq.runtimes import openvino_storage as module
    else:
        from vsq.runtimes import tflite_storage as module
    return module.weight_problems(kind, description)
