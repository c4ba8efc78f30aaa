"""A model file's storage description and its kind's storage check, by the file's runtime (vsq.runtimes.kinds).

.tflite files: vsq.runtimes.tflite_storage (flatbuffer); .onnx: onnx_storage; OpenVINO IR .xml: openvino_storage.
Every description has `weights` (per type: tensors, bytes), `kernels` (the weight of each convolution and
matrix product: name, op, type, elements), `inputs`, `outputs` and `file_size_bytes` (every file of the model).
"""

from __future__ import annotations

from pathlib import Path

from vsq.runtimes import kinds


def describe(path: Path) -> dict:
    return kinds.describe(path)


def weight_problems(kind: str, description: dict) -> list[str]:
    """Ways a file's weights are not stored as its kind promises; empty when they are."""
    return kinds.weight_problems(kind, description)
